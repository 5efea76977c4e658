// Plain TCP on loopback, for tests of port-forwards: send a payload and read what comes back.
import { createConnection } from "node:net";

/**
 * Sends `payload` to 127.0.0.1:`port` and resolves with what came back once as much arrived, or
 * with what arrived before the far side closed. Rejects on a connection error (ECONNREFUSED when
 * nothing listens) or after 10 s without an answer.
 */
export function tcpRoundTrip(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write(payload));
    let received = "";
    socket.on("data", (data: Buffer) => {
      received += data.toString("utf8");
      if (received.length >= payload.length) {
        socket.end();
        resolve(received);
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
    setTimeout(() => reject(new Error("no answer through the port-forward")), 10_000).unref();
  });
}
