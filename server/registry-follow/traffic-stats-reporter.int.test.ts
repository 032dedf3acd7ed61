/**
 * The traffic reporter against a real registry server and against none: reports are answered, and
 * when the registry cannot be reached the counts of that period are dropped (what the book holds
 * stays bounded), the failure is logged once, and the next period reports again.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { captureLog } from "../../test/support/captured-log.js";
import { closedPort } from "../../test/support/closed-port.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { createVersionStatsBook } from "../routing/version-stats.js";
import { createRegistryClient } from "./registry-client.js";
import { startTrafficStatsReporter } from "./traffic-stats-reporter.js";

let registry: TestRegistryServer;

beforeAll(async () => {
  registry = await startTestRegistryServer({ env: { ROLLOUT_TICK_MS: "0" } });
}, 60_000);

afterAll(async () => {
  await registry?.close();
});

/** A reporter of `book` for model "m" to `url`, never reporting on its own (tests call report()). */
function reporterTo(url: string, book = createVersionStatsBook()) {
  const log = captureLog();
  const client = createRegistryClient({ url });
  const reporter = startTrafficStatsReporter({
    rpc: client.rpc,
    book,
    models: () => ["m"],
    replicaId: "test:1",
    intervalMs: 600_000,
    logger: createLogger({ level: "info", name: "reporter-test", destination: log.destination }),
  });
  return {
    book,
    log,
    reporter,
    async close() {
      await reporter.close();
      client.close();
    },
  };
}

const warnings = (lines: readonly Record<string, unknown>[]) =>
  lines.filter((l) => l.msg === "traffic report: could not report to the registry, dropped");

describe("traffic stats reporter", () => {
  it("drops what it cannot report while the registry is unreachable, logging it once", async () => {
    const r = reporterTo(`http://127.0.0.1:${await closedPort()}`);
    try {
      r.book.tally("m", "1").ok(2);
      r.book.tally("m", "1").failed();
      await r.reporter.report();
      r.book.tally("m", "1").ok(3);
      await r.reporter.report();
      expect(warnings(r.log.lines)).toHaveLength(1);
      // Dropped, not kept for later: the book holds nothing of those periods.
      expect(r.book.take("m")).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it("reports to a registry that knows the model, and says when reports stop being taken", async () => {
    const r = reporterTo(registry.url);
    try {
      r.book.tally("m", "1").ok(2);
      // The model is not registered yet: NOT_FOUND, logged and dropped.
      await r.reporter.report();
      expect(warnings(r.log.lines)).toHaveLength(1);
      expect(String((warnings(r.log.lines)[0]?.err as { message?: unknown })?.message)).toMatch(/does not exist/);

      await createClient(RegistryService, createGrpcTransport({ baseUrl: registry.url })).createRegisteredModel({
        name: "m",
      });
      r.book.tally("m", "1").ok(2);
      r.book.tally("m", "local-file").ok(2);
      await r.reporter.report();
      expect(warnings(r.log.lines)).toHaveLength(1);
      expect(r.log.lines.some((l) => l.msg === "traffic report: the registry takes reports again")).toBe(true);
    } finally {
      await r.close();
    }
  });
});
