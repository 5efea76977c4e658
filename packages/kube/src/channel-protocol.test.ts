import { describe, expect, it } from "vitest";
import {
  closeFrame,
  createPortPrefixStripper,
  cutUtf8,
  decodeFrame,
  encodeFrame,
  exitOutcomeFromStatus,
} from "./channel-protocol.js";

describe("the channel protocol", () => {
  it("prefixes a payload with its channel byte and reads it back", () => {
    const frame = encodeFrame(0, "ls\n");
    expect([...frame]).toEqual([0, 0x6c, 0x73, 0x0a]);
    expect(decodeFrame(Buffer.from([2, 0x68, 0x69]))).toEqual({ channel: 2, payload: Buffer.from("hi") });
    expect(decodeFrame(Buffer.alloc(0))).toBeUndefined();
    expect([...closeFrame(0)]).toEqual([255, 0]);
  });

  it("reads exit code 0 from Success and the real code from NonZeroExitCode", () => {
    expect(exitOutcomeFromStatus('{"metadata":{},"status":"Success"}')).toEqual({ exitCode: 0 });
    expect(
      exitOutcomeFromStatus(
        JSON.stringify({
          status: "Failure",
          reason: "NonZeroExitCode",
          message: "command terminated with non-zero exit code",
          details: { causes: [{ reason: "ExitCode", message: "3" }] },
        }),
      ),
    ).toEqual({ exitCode: 3 });
  });

  it("never invents an exit code for a failure to run", () => {
    const outcome = exitOutcomeFromStatus(
      JSON.stringify({ status: "Failure", message: 'executable file not found in $PATH: "nope"' }),
    );
    expect(outcome.exitCode).toBeUndefined();
    expect(outcome.failure).toContain("executable file not found");
    expect(exitOutcomeFromStatus("plain text error").exitCode).toBeUndefined();
  });

  it("strips the two-byte port number from the first frame of each port-forward channel only", () => {
    const strip = createPortPrefixStripper();
    const port = Buffer.alloc(2);
    port.writeUInt16LE(8080);
    expect(strip(0, port)).toEqual(Buffer.alloc(0));
    expect(strip(1, port)).toEqual(Buffer.alloc(0));
    expect(strip(0, Buffer.from("hello"))).toEqual(Buffer.from("hello"));
    expect(strip(1, Buffer.from("error text"))).toEqual(Buffer.from("error text"));
  });

  it("strips a port prefix that arrives split or joined with data", () => {
    const split = createPortPrefixStripper();
    expect(split(0, Buffer.from([0x90]))).toEqual(Buffer.alloc(0));
    expect(split(0, Buffer.from([0x1f, 0x41]))).toEqual(Buffer.from("A"));
    const joined = createPortPrefixStripper();
    expect(joined(0, Buffer.from([0x90, 0x1f, 0x42]))).toEqual(Buffer.from("B"));
  });

  it("cuts UTF-8 text at a character boundary", () => {
    const text = Buffer.from("aé€😀", "utf8"); // 1 + 2 + 3 + 4 bytes
    expect(cutUtf8(text, 2).toString("utf8")).toBe("a");
    expect(cutUtf8(text, 3).toString("utf8")).toBe("aé");
    expect(cutUtf8(text, 9).toString("utf8")).toBe("aé€");
    expect(cutUtf8(text, 10).toString("utf8")).toBe("aé€😀");
  });
});

describe("an exec failure's text", () => {
  it("passes the server-text redaction: an embedded object does not reach the answer", () => {
    const stored = Buffer.from("a stored value 1234567890").toString("base64");
    const outcome = exitOutcomeFromStatus(
      JSON.stringify({
        status: "Failure",
        message: `admission refused: Invalid value: "{\\"data\\":{\\"k\\":\\"${stored}\\"}}"`,
      }),
    );
    expect(outcome.failure).toContain("admission refused: Invalid value");
    expect(outcome.failure).not.toContain(stored);
  });
});
