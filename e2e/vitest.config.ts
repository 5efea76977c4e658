import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "repo",
          include: ["repo/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "fleet",
          include: ["tests/**/*.test.ts"],
          globalSetup: ["./fleet/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // The fleet is shared and the machine has two cores: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
