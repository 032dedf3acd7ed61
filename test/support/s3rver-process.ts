/**
 * Child process of the test S3 server (see s3-server.ts): runs s3rver on 127.0.0.1 and reports
 * over IPC. Run with `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2 continuation
 * tokens with DES, which OpenSSL 3 only offers through its legacy provider.
 *
 * Arguments: port (0 for a free one), data directory, bucket. Messages to the parent:
 * `{ type: "listening", port }`, `{ type: "request", line: "METHOD /path?query" }` on every
 * request, `{ type: "synced", id }` in answer to `{ type: "sync", id }` (all earlier request
 * messages were sent before it), `{ type: "failed", message }` when it cannot start.
 */
import type { IncomingMessage, Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

/** The part of s3rver (no type definitions) used here; the only untyped access of the tests. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  readonly httpServer: Server;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;

function send(message: object): void {
  process.send?.(message);
}

const [port, directory, bucket] = process.argv.slice(2);
if (port === undefined || directory === undefined || bucket === undefined) {
  send({ type: "failed", message: "usage: s3rver-process <port> <directory> <bucket>" });
  process.exit(2);
}

// The parent went away (or stopped us): do not outlive it.
process.on("disconnect", () => process.exit(0));
process.on("message", (message: unknown) => {
  if (typeof message === "object" && message !== null && "type" in message && message.type === "sync") {
    send({ type: "synced", id: "id" in message ? message.id : undefined });
  }
});

try {
  const server = new S3rver({
    address: "127.0.0.1",
    port: Number(port),
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  server.run().then(
    (address) => {
      server.httpServer.on("request", (req: IncomingMessage) => {
        send({ type: "request", line: `${req.method ?? "?"} ${req.url ?? ""}` });
      });
      send({ type: "listening", port: address.port });
    },
    (err: unknown) => {
      send({ type: "failed", message: String(err) });
      process.exit(1);
    },
  );
} catch (err) {
  send({ type: "failed", message: String(err) });
  process.exit(1);
}
