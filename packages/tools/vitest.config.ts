import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // The paging walks render thousands of rows through whole tool calls: well under a second
    // alone, but `npm test` runs every package's tests at once on two cores, where one took 5.2 s
    // and hit the 5 s default. The timeout is for hangs, not a speed target.
    testTimeout: 30_000,
  },
});
