/**
 * The watch across two registry *processes* sharing one PostgreSQL, as operators run replicas:
 * `mlpipe registry` twice, a change committed through one, seen by a watcher of the other.
 * (registry-service.int.test.ts covers the same with in-process replicas, plus restarts.)
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RegistryEventType,
  RegistryService,
  type WatchRegisteredModelResponse,
} from "../gen/mlpipe/registry/v1/registry_pb.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { type ServerProcess, spawnServerProcess } from "../test/support/server-process.js";

const bin = join(import.meta.dirname, "..", "bin", "mlpipe.js");
const children: ChildProcess[] = [];
let postgres: TestPostgres;
let dir: string;
let a: ServerProcess<{ url: string }>;
let b: ServerProcess<{ url: string }>;

function startRegistryProcess(databaseUrl: string, name: string): Promise<ServerProcess<{ url: string }>> {
  return spawnServerProcess<{ url: string }>({
    args: [bin, "registry", "--host", "127.0.0.1", "--port", "0", "--data-dir", join(dir, name)],
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "info",
      DATABASE_URL: databaseUrl,
      ARTIFACT_ROOT: join(dir, "artifacts"),
    },
    readyMessage: "registry ready",
    children,
  });
}

beforeAll(async () => {
  postgres = await startPostgres();
  const url = await postgres.createDatabase();
  dir = await mkdtemp(join(tmpdir(), "mlpipe-registry-processes-"));
  // Both start at once: the migrations must serialize between them.
  [a, b] = await Promise.all([startRegistryProcess(url, "a"), startRegistryProcess(url, "b")]);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all([a?.exit, b?.exit]);
  await postgres?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("two registry processes sharing one PostgreSQL", () => {
  it("streams a change committed through one process to a watcher connected to the other", async () => {
    const rpcA = createClient(RegistryService, createGrpcTransport({ baseUrl: a.ready.url }));
    const rpcB = createClient(RegistryService, createGrpcTransport({ baseUrl: b.ready.url }));
    await rpcA.createRegisteredModel({ name: "shared-model" });

    const abort = new AbortController();
    const stream = rpcB
      .watchRegisteredModel({ name: "shared-model" }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    try {
      const first = (await stream.next()).value as WatchRegisteredModelResponse;
      expect(first.content.case).toBe("state");

      await rpcA.updateRegisteredModel(
        { name: "shared-model", description: "trained on iris" },
        {
          headers: { "mlpipe-actor": "process-a" },
        },
      );
      let next = (await stream.next()).value as WatchRegisteredModelResponse;
      // Heartbeats may come between; the next event is the update made through process A.
      while (next.content.case !== "event") next = (await stream.next()).value as WatchRegisteredModelResponse;
      expect([next.content.value.type, next.content.value.actor]).toEqual([
        RegistryEventType.MODEL_UPDATED,
        "process-a",
      ]);
    } finally {
      abort.abort();
    }
  });
});
