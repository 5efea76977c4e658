import { type Readable, Transform, type Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { parseErrorAnswer, screenRawMessage } from "./raw-message-screen.js";
import { createMcpServer, type McpServerDependencies, type SessionIdentity } from "./server.js";
import { createSessionState } from "./session.js";

export interface RunningServer {
  close(): Promise<void>;
}

/**
 * Lines on their way to the SDK: a line that is not JSON, or a request whose params are not an
 * object, is answered here (the SDK would drop it without a word and leave the client waiting);
 * every other line passes through unchanged.
 */
function screenLines(output: Writable): Transform {
  let pending = "";
  const screenLine = (line: string, pass: (line: string) => void) => {
    const trimmed = line.replace(/\r$/, "");
    if (trimmed.trim() === "") return;
    let message: unknown;
    try {
      message = JSON.parse(trimmed);
    } catch {
      output.write(`${JSON.stringify(parseErrorAnswer)}\n`);
      return;
    }
    const refusal = screenRawMessage(message);
    if (refusal) output.write(`${JSON.stringify(refusal)}\n`);
    else pass(`${trimmed}\n`);
  };
  return new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) screenLine(line, (passed) => this.push(passed));
      done();
    },
    flush(done) {
      if (pending !== "") screenLine(pending, (passed) => this.push(passed));
      done();
    },
  });
}

export interface StdioStreams {
  readonly input: Readable;
  readonly output: Writable;
}

/**
 * Serves one MCP session on stdin/stdout (or the streams given, for tests). stdout carries
 * protocol only.
 */
export async function serveStdio(
  dependencies: McpServerDependencies,
  identity: SessionIdentity,
  streams?: StdioStreams,
): Promise<RunningServer> {
  const session = createSessionState("stdio");
  const server = createMcpServer(dependencies, session, () => identity);
  const input = streams?.input ?? process.stdin;
  const output = streams?.output ?? process.stdout;
  const screened = input.pipe(screenLines(output));
  const transport = new StdioServerTransport(screened, output);
  await server.connect(transport);
  return {
    async close() {
      await session.portForwards.stopAll();
      await server.close();
      input.unpipe(screened);
      // Stop reading: a paused stdin lets the process exit once the session is over.
      input.pause();
    },
  };
}
