import { describe, expect, it } from "vitest";
import { seededRandom } from "./seeded-random.js";
import { omittedByGateway, redactServerText } from "./server-text.js";

/** A small seeded generator (mulberry32), so a failure names the seed that reproduces it. */
function generator(seed: number) {
  const next = seededRandom(seed);
  const integer = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"\\|{}[]:,=+/ .-_é€😀';
  const characters = [...alphabet];
  const text = (length: number) =>
    Array.from({ length }, () => characters[integer(0, characters.length - 1)] ?? "x").join("");
  return { integer, text, pick: <T>(items: readonly T[]): T => items[integer(0, items.length - 1)] as T };
}

const base64 = (value: string) => Buffer.from(value, "utf8").toString("base64");

/** The shapes in which kube-apiserver 1.20 embeds objects in its messages (seen on the fleet). */
const messageShapes: readonly ((values: Record<string, string>) => string)[] = [
  // A merge or JSON patch the server could not decode: the whole patched object, then decoder context.
  (values) => {
    const stored = JSON.stringify({
      apiVersion: "v1",
      data: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, base64(value)])),
      kind: "Secret",
      metadata: { name: "app", namespace: "default" },
      type: "Opaque",
    });
    const fragment = stored.slice(20, 60);
    return ` "" is invalid: patch: Invalid value: ${JSON.stringify(stored)}: v1.Secret.Data: decode base64: illegal base64 data at input byte 0, error found in #10 byte of ...|${fragment.slice(0, 12)}|..., bigger context ...|${fragment}|...`;
  },
  // A strategic merge patch: a Go map dump of the patch, quoted as Go's %q quotes.
  (values) =>
    ` "" is invalid: patch: Invalid value: ${JSON.stringify(
      `map[data:map[${Object.entries(values)
        .map(([key, value]) => `${key}:${value}`)
        .join(" ")}]]`,
    )}: error decoding from json: illegal base64 data at input byte 0`,
  // A create the decoder refused: raw request JSON (stringData in clear) as context.
  (values) =>
    `Secret in version "v1" cannot be handled as a Secret: v1.Secret.Data: decode base64: illegal base64 data at input byte 0, error found in #10 byte of ...|${JSON.stringify(values).slice(0, 15)}|..., bigger context ...|{"stringData":${JSON.stringify(values)},"data":{"x":"!!!"}}|...`,
  // An object printed bare, as Go's %v or %+v prints a struct.
  (values) => `spec: Invalid value: v1.Secret{Data:map[string][]uint8{}, StringData:${JSON.stringify(values)}}: bad`,
];

function storedValues(random: ReturnType<typeof generator>): Record<string, string> {
  const count = random.integer(1, 4);
  return Object.fromEntries(
    Array.from({ length: count }, (_, index) => [`key${index}`, random.text(random.integer(18, 64))]),
  );
}

function leaks(text: string, value: string): string | undefined {
  for (const form of [value, base64(value), JSON.stringify(value).slice(1, -1)]) if (text.includes(form)) return form;
  return undefined;
}

describe("redactServerText", () => {
  it("removes every stored value, raw and base64, from every shape the API server embeds objects in", () => {
    for (let seed = 1; seed <= 400; seed += 1) {
      const random = generator(seed);
      const values = storedValues(random);
      const shape = random.pick(messageShapes);
      const message = shape(values);
      const redacted = redactServerText(message);
      for (const value of Object.values(values)) {
        expect(leaks(redacted, value), `seed ${seed}: ${redacted}`).toBeUndefined();
      }
    }
  });

  it("removes the values from a Status body cut short at any length, as a truncated answer arrives", () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const random = generator(seed);
      const values = storedValues(random);
      const message = (messageShapes[0] as (values: Record<string, string>) => string)(values);
      const body = JSON.stringify({ kind: "Status", message, details: { causes: [{ message }] }, code: 422 });
      const cut = body.slice(0, random.integer(1, body.length));
      for (const value of Object.values(values)) {
        expect(leaks(redactServerText(cut), value), `seed ${seed}`).toBeUndefined();
      }
    }
  });

  it("keeps what the caller needs: the field, the reason and short quoted values", () => {
    const redacted = redactServerText(
      ` "" is invalid: patch: Invalid value: "{\\"data\\":{\\"k\\":\\"c2VjcmV0LXZhbHVlLTEyMzQ1Njc4\\"}}": v1.Secret.Data: decode base64: illegal base64 data at input byte 0`,
    );
    expect(redacted).toBe(
      ` "" is invalid: patch: Invalid value: "${omittedByGateway}": v1.Secret.Data: decode base64: illegal base64 data at input byte 0`,
    );
    const plain = `Secret "explore" is invalid: [type: Invalid value: "kubernetes.io/tls": field is immutable, data[tls.crt]: Required value]`;
    expect(redactServerText(plain)).toBe(plain);
    const denial = `deployments.apps "web" is forbidden: the user cannot patch resource "deployments" in API group "apps" at /apis/apps/v1/namespaces/default/deployments/web`;
    expect(redactServerText(denial)).toBe(denial);
    expect(redactServerText("CustomResourceDefinitionList is empty: {}")).toBe(
      "CustomResourceDefinitionList is empty: {}",
    );
  });

  it("removes long base64 runs left anywhere in the text", () => {
    const encoded = base64("a stored value with 1 digit and more");
    expect(redactServerText(`value ${encoded} refused`)).toBe(`value ${omittedByGateway} refused`);
  });

  it("gives the same text when applied twice", () => {
    for (let seed = 1; seed <= 100; seed += 1) {
      const random = generator(seed);
      const once = redactServerText(random.pick(messageShapes)(storedValues(random)));
      expect(redactServerText(once)).toBe(once);
    }
  });
});
