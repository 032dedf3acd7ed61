/**
 * Every Grafana dashboard expression and every Prometheus rule, evaluated by a real Prometheus
 * that scrapes a live mlpipe: a registry on PostgreSQL and an inference server following it,
 * both started here, with traffic sent to them (JSON and gRPC predictions, bad input, requests
 * shed by admission control, tracking and registry calls). Prometheus loads the rule files too,
 * so alerts read the recorded SLO ratios as in production.
 *
 * It fails on an expression Prometheus cannot parse, and on one that still returns no series once
 * Prometheus has scraped for a while: a dashboard query must show data, a recording rule must
 * produce it, and each signal of an alert (what its threshold is compared with, see
 * promql-signals.ts) must exist, or the alert could never fire.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureDemoModel } from "../app/demo-model.js";
import type { InferenceServer } from "../app/inference-server.js";
import { shadowTag } from "../core/validation/shadow-routes.js";
import { InferenceService } from "../gen/mlpipe/inference/v1/inference_pb.js";
import { createMlpipeClient } from "../sdk/index.js";
import { freePort } from "../test/support/free-port.js";
import { postJson, startTestServer } from "../test/support/inference-test-harness.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";
import { describeWithTools, prometheusTool } from "../test/support/system-tools.js";
import { promqlSignals } from "./promql-signals.js";
import { readRuleGroups, ruleFiles } from "./rule-files.js";

const dashboardsDir = join(import.meta.dirname, "grafana", "dashboards");

/** An expression to evaluate and where it comes from. */
interface Query {
  readonly source: string;
  readonly expr: string;
}

interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly query?: unknown }[] };
}

/**
 * Grafana's own parts of a query, replaced as Grafana would for "All" instances over the last
 * hour: `$__rate_interval` (at least four scrape intervals) and the `$instance` variable.
 */
function asPromql(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*");
}

function dashboardQueries(): Query[] {
  const queries: Query[] = [];
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith(".json"))) {
    const dashboard = JSON.parse(readFileSync(join(dashboardsDir, file), "utf8")) as Dashboard;
    const walk = (panels: readonly Panel[]): void => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          if (target.expr !== undefined) {
            queries.push({ source: `${file}: ${panel.title ?? "?"}`, expr: asPromql(target.expr) });
          }
        }
        walk(panel.panels ?? []);
      }
    };
    walk(dashboard.panels);
    for (const variable of dashboard.templating.list) {
      const q = variable.query;
      const text = typeof q === "object" && q !== null && "query" in q ? String(q.query) : undefined;
      // label_values(<selector>, <label>) is Grafana's; the selector is the PromQL part.
      const selector = text === undefined ? undefined : /^label_values\((.*),\s*\w+\)$/.exec(text)?.[1];
      if (selector !== undefined) queries.push({ source: `${file}: variable ${variable.name}`, expr: selector });
    }
  }
  return queries;
}

function ruleQueries(): Query[] {
  return readRuleGroups().flatMap((group) =>
    group.rules.flatMap((rule) =>
      rule.record !== undefined
        ? [{ source: `recording rule ${rule.record}`, expr: rule.expr }]
        : promqlSignals(rule.expr).map((expr) => ({ source: `alert ${rule.alert ?? "?"} (signal)`, expr })),
    ),
  );
}

let postgres: TestPostgres | undefined;
let registry: TestRegistryServer | undefined;
let inference: InferenceServer | undefined;
let prometheus: ChildProcess | undefined;
let prometheusUrl = "";
let workDir = "";
let trafficDone: Promise<void> = Promise.resolve();
const stopTraffic = new AbortController();

/** Sends a mix of traffic every 100 ms until stopped (at most 3000 rounds, five minutes). */
async function sendTraffic(inferenceUrl: string, registryUrl: string): Promise<void> {
  const grpc = createClient(InferenceService, createGrpcTransport({ baseUrl: inferenceUrl }));
  const mlpipe = createMlpipeClient({ url: registryUrl });
  const runId = (await mlpipe.tracking.createRun({ experimentId: "0", runName: "dashboards" })).run?.info?.runId ?? "";
  for (let round = 0; round < 3000 && !stopTraffic.signal.aborted; round++) {
    const calls: Promise<unknown>[] = [
      postJson(`${inferenceUrl}/predict`, { features: [5.1, 3.5, 1.4, 0.2] }),
      postJson(`${inferenceUrl}/predict`, { features: [5.1, "x"] }),
      grpc.predict({ features: [6.7, 3.0, 5.2, 2.3] }),
      mlpipe.tracking.logBatch({ runId, metrics: [{ key: "loss", value: 1 / (round + 1), step: BigInt(round) }] }),
      mlpipe.tracking.getExperiment({ experimentId: "999999" }).catch(() => undefined),
    ];
    // A burst beyond MAX_IN_FLIGHT_REQUESTS: some are shed (429 / RESOURCE_EXHAUSTED).
    if (round % 10 === 0) {
      for (let i = 0; i < 16; i++) calls.push(postJson(`${inferenceUrl}/predict`, { features: [5.9, 3.0, 4.2, 1.5] }));
    }
    await Promise.allSettled(calls);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface QueryResult {
  readonly status: "success" | "error";
  readonly errorType?: string;
  readonly error?: string;
  readonly data?: { readonly result: readonly unknown[] };
}

async function instantQuery(expr: string): Promise<QueryResult> {
  const res = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: "POST",
    body: new URLSearchParams({ query: expr }),
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as QueryResult;
}

describeWithTools("dashboards and rules against a live Prometheus scraping mlpipe", [prometheusTool], () => {
  beforeAll(async () => {
    postgres = await startPostgres();
    registry = await startTestRegistryServer({
      env: { DATABASE_URL: await postgres.createDatabase() },
      logLevel: "silent",
    });
    const client = createMlpipeClient({ url: registry.url });
    const demo = await ensureDemoModel({ client, modelName: "iris-classifier", modelStage: "Production" });
    // Every request mirrored to the same version behind the alias `shadow`: the shadow panels' series.
    if (demo.kind === "nothing-to-serve") throw new Error("the demo model has no version to serve");
    await client.setAlias("iris-classifier", "shadow", demo.version);
    await client.registry.setRegisteredModelTag({ name: "iris-classifier", key: shadowTag, value: "shadow=100" });
    const server = await startTestServer({
      REGISTRY_URL: registry.url,
      MODEL_NAME: "iris-classifier",
      INFERENCE_WORKERS: "1",
      MAX_IN_FLIGHT_REQUESTS: "4",
      MLPIPE_DATA_DIR: await mkdtemp(join(tmpdir(), "mlpipe-inference-")),
    });
    inference = server;
    await new Promise<void>((resolve) => {
      if (server.readiness.serving) resolve();
      else server.readiness.subscribe((serving) => serving && resolve());
    });

    workDir = await mkdtemp(join(tmpdir(), "mlpipe-prometheus-"));
    const target = (url: string) => new URL(url).host;
    await writeFile(
      join(workDir, "prometheus.yml"),
      JSON.stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: ruleFiles,
        scrape_configs: [
          { job_name: "mlpipe-inference", static_configs: [{ targets: [target(server.url)] }] },
          { job_name: "mlpipe-registry", static_configs: [{ targets: [target(registry.url)] }] },
        ],
      }),
    );
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    let output = "";
    const child = spawn(
      prometheusTool.command,
      [
        `--config.file=${join(workDir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(workDir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus = child;
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    for (let i = 0; ; i++) {
      const ready = await fetch(`${prometheusUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i === 300 || child.exitCode !== null) throw new Error(`Prometheus did not start:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    trafficDone = sendTraffic(server.url, registry.url);
  });

  afterAll(async () => {
    stopTraffic.abort();
    await trafficDone.catch(() => undefined);
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (prometheus.exitCode === null) prometheus.kill("SIGKILL");
    }
    await inference?.shutdown();
    await registry?.close();
    await postgres?.cleanup();
    if (workDir !== "") await rm(workDir, { recursive: true, force: true });
  });

  it("scrapes both processes", async () => {
    for (;;) {
      const up = await instantQuery('sum(up{job=~"mlpipe-inference|mlpipe-registry"})');
      if (up.data?.result.length === 1 && JSON.stringify(up.data.result).includes('"2"')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it("every dashboard query and rule parses and returns series", { timeout: 180_000 }, async () => {
    const queries = [...dashboardQueries(), ...ruleQueries()];
    expect(queries.length).toBeGreaterThan(40);
    let pending = queries;
    const failures = new Map<Query, string>();
    // Up to 90 s for rates to have two samples and the rules to have been evaluated over them.
    for (let attempt = 0; attempt < 90 && pending.length > 0; attempt++) {
      const next: Query[] = [];
      for (const q of pending) {
        const result = await instantQuery(q.expr);
        if (result.status === "error") failures.set(q, `${result.errorType}: ${result.error}`);
        else if ((result.data?.result.length ?? 0) === 0) next.push(q);
      }
      pending = next.filter((q) => !failures.has(q));
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    for (const q of pending) failures.set(q, "no series");
    const report = [...failures].map(([q, why]) => `${q.source}: ${why}\n    ${q.expr.replace(/\s+/g, " ")}`);
    expect(report).toEqual([]);
  });
});
