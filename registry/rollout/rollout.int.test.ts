/**
 * Progressive delivery end to end (issue 16): a real registry (PGlite, its rollout controller
 * looking every 50 ms) and a real inference server following the model's `champion` alias and
 * reporting what each version answered every 100 ms. Requests are driven while the rollout runs
 * with 300 ms steps; its decisions are read back from the audit history (ListRegistryEvents).
 * A challenger with other weights is promoted; a challenger whose input width differs (every
 * request it gets fails) is rolled back. Waits are bounded by the test timeouts, not timed.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InferenceServer, startInferenceServer } from "../../app/inference-server.js";
import { type RegistryServer, startRegistryServer } from "../../app/registry-server.js";
import type { CliIo } from "../../cli/cli-io.js";
import { allCommands } from "../../cli/commands/all-commands.js";
import { runCli } from "../../cli/run-cli.js";
import { type Config, loadConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import { rolloutTag } from "../../core/validation/rollout-spec.js";
import { parseRolloutStatus, type RolloutStatus, rolloutStatusTag } from "../../core/validation/rollout-status.js";
import { trafficSplitTag } from "../../core/validation/traffic-split.js";
import { RegistryEventType, RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { postJson, until } from "../../test/support/inference-test-harness.js";
import { irisBias, irisWeights, type TestModels, writeTestModels } from "../../test/support/onnx-models.js";
import { buildLinearClassifier } from "../../training/onnx-model-builder.js";
import { rolloutActor } from "./rollout-controller.js";

const modelName = "rollout-model";
const features = [5.1, 3.5, 1.4, 0.2];

let models: TestModels;
let fiveWide: string;
let registryDir: string;
let inferenceDir: string;
let registryConfig: Config;
let registry: RegistryServer;
let rpc: Client<typeof RegistryService>;
let server: InferenceServer;
/** The inference servers requests are driven to: `server`, and a second replica while one runs. */
let replicas: InferenceServer[] = [];

async function register(file: string): Promise<bigint> {
  const uploads = join(registryConfig.artifactRoot, "uploads");
  mkdirSync(uploads, { recursive: true });
  const copy = join(uploads, `${Date.now()}-${Math.random().toString(36).slice(2)}.onnx`);
  copyFileSync(file, copy);
  const { modelVersion } = await rpc.createModelVersion({ name: modelName, source: pathToFileURL(copy).href });
  if (modelVersion === undefined) throw new Error("no version created");
  return modelVersion.version;
}

async function status(): Promise<RolloutStatus | undefined> {
  const { registeredModel } = await rpc.getRegisteredModel({ name: modelName });
  return parseRolloutStatus(registeredModel?.tags[rolloutStatusTag]);
}

/** Runs `mlpipe <argv>` in-process against the registry; its exit code and output. */
async function mlpipe(argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: {
      write: (t) => {
        out += t;
      },
      isTTY: false,
    },
    stderr: {
      write: (t) => {
        err += t;
      },
      isTTY: false,
    },
    env: {},
    cwd: "/",
  };
  const code = await runCli([...argv, "--registry-url", registry.url], io, allCommands);
  return { code, out, err };
}

/**
 * Starts the rollout `spec` (through the RPC, or `start`) and sends requests (10 at a time) until
 * it is over; returns its final status.
 */
async function rollOut(spec: string, start?: () => Promise<void>): Promise<RolloutStatus> {
  if (start === undefined) await rpc.setRegisteredModelTag({ name: modelName, key: rolloutTag, value: spec });
  else await start();
  for (;;) {
    const s = await status();
    if (s !== undefined && s.spec === spec && s.state !== "running") return s;
    await Promise.all(
      replicas.flatMap((r) => Array.from({ length: 10 }, () => postJson(`${r.url}/predict`, { features }))),
    );
  }
}

/** The controller's decisions in the audit history, oldest first, from the sequence `after` on. */
async function decisions(after: bigint): Promise<RolloutStatus[]> {
  const { events } = await rpc.listRegistryEvents({ name: modelName, maxResults: 1000 });
  return events
    .filter((e) => e.sequence > after && e.type === RegistryEventType.MODEL_TAG_SET && e.key === rolloutStatusTag)
    .map((e) => {
      expect(e.actor).toBe(rolloutActor);
      const parsed = parseRolloutStatus(e.toValue);
      if (parsed === undefined) throw new Error(`not a status: ${e.toValue}`);
      return parsed;
    });
}

async function lastSequence(): Promise<bigint> {
  const { events } = await rpc.listRegistryEvents({ name: modelName, maxResults: 1000 });
  return events[events.length - 1]?.sequence ?? 0n;
}

beforeAll(async () => {
  models = writeTestModels();
  fiveWide = join(models.dir, "five-wide.onnx");
  writeFileSync(
    fiveWide,
    buildLinearClassifier({ weights: [...irisWeights, irisWeights[0] ?? []], bias: irisBias, name: "five_wide" }),
  );
  registryDir = mkdtempSync(join(tmpdir(), "mlpipe-registry-"));
  inferenceDir = mkdtempSync(join(tmpdir(), "mlpipe-inference-"));
  registryConfig = loadConfig({
    MLPIPE_DATA_DIR: registryDir,
    HOST: "127.0.0.1",
    REGISTRY_PORT: "0",
    ROLLOUT_TICK_MS: "50",
  });
  registry = await startRegistryServer(registryConfig, createLogger({ level: "silent" }));
  rpc = createClient(RegistryService, createGrpcTransport({ baseUrl: registry.url }));
  await rpc.createRegisteredModel({ name: modelName });
  const v1 = await register(models.iris);
  await rpc.setRegisteredModelAlias({ name: modelName, alias: "champion", version: v1 });
  server = await startReplica(inferenceDir);
  replicas = [server];
}, 60_000);

/** Starts an inference server following the champion alias, reporting every 100 ms; resolves when it serves. */
async function startReplica(dataDir: string): Promise<InferenceServer> {
  const config = loadConfig({
    HOST: "127.0.0.1",
    INFERENCE_PORT: "0",
    INFERENCE_WORKERS: "1",
    MLPIPE_DATA_DIR: dataDir,
    REGISTRY_URL: registry.url,
    MODEL_NAME: modelName,
    MODEL_STAGE: "champion",
    TRAFFIC_REPORT_INTERVAL_MS: "100",
  });
  const started = await startInferenceServer(config, createLogger({ level: "silent" }), {
    registryBackoff: { initialMs: 50, maxMs: 500 },
  });
  await until(async () => started.readiness.serving);
  return started;
}

afterAll(async () => {
  await server?.shutdown();
  await registry?.close(0);
  for (const dir of [registryDir, inferenceDir, models?.dir])
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("progressive rollout", () => {
  it("refuses a rollout tag that is not one", async () => {
    await expect(
      rpc.setRegisteredModelTag({ name: modelName, key: rolloutTag, value: "champion=champion,step=10" }),
    ).rejects.toThrow(/a rollout: challenger \(an alias\) is required/);
  });

  it("moves a healthy challenger up in steps and promotes it, merging the reports of two replicas", async () => {
    const v2 = await register(models.irisB);
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "challenger", version: v2 });
    const secondDir = mkdtempSync(join(tmpdir(), "mlpipe-inference-"));
    const second = await startReplica(secondDir);
    replicas = [server, second];
    let final: RolloutStatus;
    const after = await lastSequence();
    try {
      // A generous p99 bound: two healthy versions on a loaded machine must not be told apart by noise.
      final = await rollOut(
        "champion=champion,challenger=challenger,step=40,interval=300ms,min_requests=5,max_p99_ratio=1000",
      );
    } finally {
      replicas = [server];
      await second.shutdown();
      rmSync(secondDir, { recursive: true, force: true });
    }
    expect(final).toMatchObject({ state: "succeeded", decision: "promote" });
    // Both replicas' reports were counted in a decision (each step merges whichever reported in it).
    const merged = (await decisions(after)).flatMap((d) => [d.champion?.replicas ?? 0, d.challenger?.replicas ?? 0]);
    expect(Math.max(...merged)).toBe(2);

    const { registeredModel } = await rpc.getRegisteredModel({ name: modelName });
    expect(registeredModel?.aliases.champion).toBe(v2);
    expect(registeredModel?.tags[trafficSplitTag]).toBe("champion=100");
    expect(registeredModel?.tags[rolloutTag]).toBeUndefined();

    const steps = (await decisions(after)).filter((d) => d.decision !== "hold");
    expect(steps.map((d) => [d.decision, d.weight])).toEqual([
      ["start", 40],
      ["step", 80],
      ["promote", 0],
    ]);
    // The decisions carry what both versions answered in their step, summed from the reports.
    const promoted = steps[2];
    expect(promoted?.challenger).toMatchObject({ version: v2.toString(), errors: 0 });
    expect(promoted?.challenger?.requests).toBeGreaterThanOrEqual(5);
    expect(promoted?.champion?.requests).toBeGreaterThanOrEqual(5);
    // And the inference server follows: every answer now comes from the new champion.
    await until(
      async () => (await postJson(`${server.url}/predict`, { features })).body.model_version === v2.toString(),
    );
  }, 120_000);

  it("rolls a failing challenger back, leaving the champion where it was", async () => {
    const { registeredModel } = await rpc.getRegisteredModel({ name: modelName });
    const champion = registeredModel?.aliases.champion;
    const v3 = await register(fiveWide);
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "challenger", version: v3 });
    const after = await lastSequence();
    // Through the CLI this time: every parameter is written out, with the defaults.
    const spec =
      "champion=champion,challenger=challenger,step=20,interval=300ms,max_weight=100,min_requests=5," +
      "max_error_increase=0.01,max_p99_ratio=1.5";
    const final = await rollOut(spec, async () => {
      const started = await mlpipe([
        "rollout",
        "start",
        modelName,
        "--step",
        "20",
        "--interval",
        "300ms",
        "--min-requests",
        "5",
      ]);
      expect(started).toMatchObject({ code: 0, out: `${modelName}: rollout started (${spec})\n` });
    });
    expect(final).toMatchObject({ state: "failed", decision: "rollback", weight: 0 });
    expect(final.reason).toMatch(/error ratio 1.0000 of the challenger exceeds the champion's 0.0000/);

    const { registeredModel: after1 } = await rpc.getRegisteredModel({ name: modelName });
    expect(after1?.aliases.champion).toBe(champion);
    expect(after1?.tags[trafficSplitTag]).toBe("champion=100");
    const steps = (await decisions(after)).filter((d) => d.decision !== "hold");
    expect(steps.map((d) => d.decision)).toEqual(["start", "rollback"]);
    // The split's changes are in the history too, by the controller.
    const { events } = await rpc.listRegistryEvents({ name: modelName, maxResults: 1000 });
    const splits = events
      .filter((e) => e.sequence > after && e.key === trafficSplitTag)
      .map((e) => [e.actor, e.toValue]);
    expect(splits).toEqual([
      [rolloutActor, "champion=80,challenger=20"],
      [rolloutActor, "champion=100"],
    ]);
    const shown = await mlpipe(["rollout", "status", modelName, "--history"]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(
      /^rollout-model: failed, challenger weight 0%, last decision rollback: error ratio 1.0000/,
    );
    expect(shown.out).toMatch(/^ {2}split: champion=100$/m);
    expect(shown.out).toMatch(
      /^ {2}last step: champion v\d+: \d+ requests, 0 errors, p99 [\d.]+ ms \(1 replica\); challenger v3: \d+ requests, \d+ errors, p99 - \(1 replica\)$/m,
    );
    expect(shown.out).toMatch(/\bsucceeded\s+promote\s+0\s+passed at weight 80/);
  }, 120_000);

  it("aborts a running rollout from the CLI: the champion gets all traffic back", async () => {
    const spec = "champion=champion,challenger=challenger,step=30,interval=1h";
    await rpc.setRegisteredModelTag({ name: modelName, key: rolloutTag, value: spec });
    await until(async () => (await status())?.spec === spec);
    const { registeredModel } = await rpc.getRegisteredModel({ name: modelName });
    expect(registeredModel?.tags[trafficSplitTag]).toBe("champion=70,challenger=30");
    expect(await mlpipe(["rollout", "abort", modelName])).toMatchObject({
      code: 0,
      out: `${modelName}: rollout aborted; the registry sets the split back to the champion\n`,
    });
    await until(async () => (await status())?.state === "aborted");
    const json = JSON.parse((await mlpipe(["rollout", "status", modelName, "--json"])).out) as Record<string, unknown>;
    expect(json).toMatchObject({
      name: modelName,
      rollout: null,
      split: "champion=100",
      status: { state: "aborted", decision: "abort", reason: "the mlpipe.rollout tag was deleted" },
    });
    // Nothing to abort any more: the registry says so.
    const again = await mlpipe(["rollout", "abort", modelName]);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/tag "mlpipe.rollout" is not set/);
  }, 60_000);
});
