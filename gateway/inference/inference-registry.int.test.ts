/**
 * The inference server in registry mode (REGISTRY_URL, MODEL_NAME, MODEL_STAGE) against a real
 * registry server (startRegistryServer over PGlite and a local artifact store) in the same process,
 * both on ephemeral ports of 127.0.0.1: versions are registered from real ONNX files, promoted
 * through the registry's API, and the inference server follows them over its Watch stream.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InferenceServer, startInferenceServer } from "../../app/inference-server.js";
import { type RegistryServer, startRegistryServer } from "../../app/registry-server.js";
import { type Config, loadConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { RegistryService, Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { type CapturedLog, captureLog } from "../../test/support/captured-log.js";
import { createGrpcClient, type GrpcClient } from "../../test/support/grpc-client.js";
import { postJson, until } from "../../test/support/inference-test-harness.js";
import {
  irisBias,
  irisWeights,
  irisWeightsB,
  referenceProbabilities,
  type TestModels,
  writeTestModels,
} from "../../test/support/onnx-models.js";

const modelName = "iris-classifier";
const setosa = [5.1, 3.5, 1.4, 0.2];
const virginica = [6.7, 3.0, 5.2, 2.3];

/** The probability of the predicted class for `features` under weights A (v1) or B (v2). */
function probability(weights: readonly (readonly number[])[], features: readonly number[]): number {
  return Math.max(...referenceProbabilities(weights, irisBias, features));
}

let models: TestModels;
let registryDir: string;
let registryConfig: Config;
let registry: RegistryServer;
let rpc: Client<typeof RegistryService>;
let inferenceDir: string;
let server: InferenceServer;
let serverLog: CapturedLog;
let grpc: GrpcClient<(typeof InferenceService)["method"]>;

async function startRegistry(port: number): Promise<RegistryServer> {
  registryConfig = loadConfig({ MLPIPE_DATA_DIR: registryDir, HOST: "127.0.0.1", REGISTRY_PORT: String(port) });
  return startRegistryServer(registryConfig, createLogger({ level: "silent" }));
}

/** Starts an inference server in registry mode, its log captured in `serverLog`. */
async function startServer(env: Readonly<Record<string, string>> = {}): Promise<InferenceServer> {
  const started = await startLoggedServer(env);
  serverLog = started.log;
  return started.server;
}

async function startLoggedServer(
  env: Readonly<Record<string, string>>,
): Promise<{ server: InferenceServer; log: CapturedLog }> {
  const log = captureLog();
  const config = loadConfig({
    HOST: "127.0.0.1",
    INFERENCE_PORT: "0",
    INFERENCE_WORKERS: "1",
    MLPIPE_DATA_DIR: inferenceDir,
    REGISTRY_URL: registry.url,
    MODEL_NAME: modelName,
    LOG_LEVEL: "info",
    ...env,
  });
  const logger = createLogger({ level: config.logLevel, name: "inference-test", destination: log.destination });
  return {
    server: await startInferenceServer(config, logger, { registryBackoff: { initialMs: 50, maxMs: 500 } }),
    log,
  };
}

/** Registers `file` as the next version of the model and returns its number. */
async function register(file: string): Promise<bigint> {
  const uploads = join(registryConfig.artifactRoot, "uploads");
  mkdirSync(uploads, { recursive: true });
  const copy = join(uploads, `${Date.now()}-${Math.random().toString(36).slice(2)}.onnx`);
  copyFileSync(file, copy);
  const { modelVersion } = await rpc.createModelVersion({ name: modelName, source: pathToFileURL(copy).href });
  if (modelVersion === undefined) throw new Error("no version created");
  return modelVersion.version;
}

function promote(version: bigint, archiveExisting = true): Promise<unknown> {
  return rpc.transitionModelVersionStage({
    name: modelName,
    version,
    stage: Stage.PRODUCTION,
    archiveExistingVersions: archiveExisting,
  });
}

async function servedVersion(): Promise<unknown> {
  return (await postJson(`${server.url}/predict`, { features: setosa })).body.model_version;
}

/** Overwrites the registry's stored copy of a version (what DownloadModelVersion streams). */
async function corruptStoredCopy(version: bigint, bytes: Uint8Array): Promise<void> {
  const { modelVersion } = await rpc.getModelVersion({ name: modelName, version });
  writeFileSync(fileURLToPath(modelVersion?.storageUri ?? ""), bytes);
}

beforeAll(async () => {
  models = writeTestModels();
  registryDir = mkdtempSync(join(tmpdir(), "mlpipe-registry-"));
  inferenceDir = mkdtempSync(join(tmpdir(), "mlpipe-inference-"));
  registry = await startRegistry(0);
  rpc = createClient(RegistryService, createGrpcTransport({ baseUrl: registry.url }));
  await rpc.createRegisteredModel({ name: modelName });
});

afterAll(async () => {
  grpc?.close();
  await server?.shutdown();
  await registry?.close(0);
  rmSync(registryDir, { recursive: true, force: true });
  rmSync(inferenceDir, { recursive: true, force: true });
  rmSync(models.dir, { recursive: true, force: true });
});

describe("inference server serving from the registry", () => {
  it("starts not ready while no version is in the stage, and becomes ready when one is promoted", async () => {
    const v1 = await register(models.iris);
    expect(v1).toBe(1n);
    expect(await register(models.irisB)).toBe(2n);
    server = await startServer();
    grpc = createGrpcClient(InferenceService, new URL(server.url).host);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(503);
    const early = await postJson(`${server.url}/predict`, { features: setosa });
    expect(early.status).toBe(503);
    expect((early.body.error as Record<string, unknown>).id).toBe("INFERENCE_MODEL_NOT_READY");

    await promote(v1);
    await until(async () => (await fetch(`${server.url}/health/ready`)).status === 200);
    const res = await postJson(`${server.url}/predict`, { features: setosa });
    expect(res.status).toBe(200);
    expect(res.body.model_version).toBe("1");
    expect(res.body.probability).toBeCloseTo(probability(irisWeights, setosa), 4);
    const info = (await (await fetch(`${server.url}/model/info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      name: modelName,
      version: "1",
      stage: "Production",
      source: "models:/iris-classifier/1",
    });
    // Downloaded into the cache under <data dir>/model-cache/<name>/<version>/.
    expect(readdirSync(join(inferenceDir, "model-cache", modelName, "1"))).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}\.onnx$/),
    ]);
  });

  it("swaps to a newly promoted version under concurrent HTTP and gRPC load with zero failures", async () => {
    let promoted = false;
    const failures: unknown[] = [];
    const seen: unknown[] = [];
    const perClient: unknown[][] = [];
    const client = async (n: number): Promise<void> => {
      const mine: unknown[] = [];
      perClient.push(mine);
      // Each client keeps going until it has had 5 answers from v2 after the promotion.
      let fromV2 = 0;
      while (fromV2 < 5) {
        try {
          let version: unknown;
          let p: number | undefined;
          if (n % 2 === 0) {
            const res = await postJson(`${server.url}/predict`, { features: virginica });
            if (res.status !== 200) failures.push(res.body);
            version = res.body.model_version;
            p = res.body.probability as number;
          } else {
            const res = await grpc.predict({ features: virginica });
            version = res.modelVersion;
            p = res.prediction?.probability;
          }
          seen.push(version);
          mine.push(version);
          // The answer comes from the version it names.
          expect(p).toBeCloseTo(probability(version === "2" ? irisWeightsB : irisWeights, virginica), 4);
          if (promoted && version === "2") fromV2++;
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, (_, n) => client(n)));
    await until(async () => seen.length >= 20);
    await promote(2n);
    promoted = true;
    await load;
    expect(failures).toEqual([]);
    expect(seen).toContain("1");
    // Once a client saw v2 its next requests never went to v1 again: the switch is atomic. (Across
    // clients, a request queued on v1 just before the switch may still answer after another's v2.)
    for (const mine of perClient) expect(mine.slice(mine.indexOf("2")).filter((v) => v !== "2")).toEqual([]);
    expect(await servedVersion()).toBe("2");
    await until(async () => serverLog.lines.some((l) => l.msg === "model unloaded" && l.version === "1"));
  }, 60_000);

  it("answers requests pinning the served version by number, stage or alias, and NOT_FOUND for others", async () => {
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "champion", version: 2n });
    // The alias moved without changing what is served: the loaded version is relabelled.
    await until(
      async () =>
        (await postJson(`${server.url}/predict`, { features: setosa, model_version: "champion" })).status === 200,
    );
    for (const pin of ["2", "Production", "production", "champion"]) {
      const res = await postJson(`${server.url}/predict`, { features: setosa, model_version: pin });
      expect(res.body.model_version, pin).toBe("2");
    }
    const other = await postJson(`${server.url}/predict`, { features: setosa, model_version: "1" });
    expect(other.status).toBe(404);
    expect(other.body.error).toMatchObject({ id: "INFERENCE_MODEL_VERSION_NOT_FOUND", field: "model_version" });
    const info = (await (await fetch(`${server.url}/model/info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ version: "2", stage: "Production", aliases: ["champion"] });
  });

  it("keeps serving while the registry is down and picks up a promotion made while it reconnects", async () => {
    const port = registry.port;
    const before = serverLog.lines.length;
    await registry.close(0);
    // Reconnecting fails while the registry is down...
    await until(async () => serverLog.lines.slice(before).some((l) => l.msg === "registry watch failed; reconnecting"));
    // ...and the server keeps serving the version it has, on both surfaces.
    expect(await servedVersion()).toBe("2");
    expect((await grpc.predict({ features: setosa })).modelVersion).toBe("2");
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    // A server started now has nothing to serve: it starts, not ready, and keeps trying.
    const late = await startLoggedServer({});
    try {
      expect(late.server.readiness.serving).toBe(false);
      expect((await postJson(`${late.server.url}/predict`, { features: setosa })).status).toBe(503);

      registry = await startRegistry(port);
      await promote(1n);
      await until(async () => (await servedVersion()) === "1");
      await until(async () => late.server.readiness.serving);
      expect((await postJson(`${late.server.url}/predict`, { features: setosa })).body.model_version).toBe("1");
    } finally {
      await late.server.shutdown();
    }
    // It resumed after the last sequence it had seen rather than starting over.
    const reconnected = serverLog.lines.find((l) => l.msg === "registry watch reconnected");
    expect(Number(reconnected?.after)).toBeGreaterThan(0);
  }, 60_000);

  it("refuses a download whose SHA-256 does not match the registry's and keeps serving", async () => {
    const v3 = await register(models.irisB);
    // The stored copy now holds another valid model: only the checksum tells them apart.
    await corruptStoredCopy(v3, readFileSync(models.iris));
    await promote(v3, false);
    await until(async () =>
      serverLog.lines.some(
        (l) =>
          l.msg === "cannot serve the new version; the current one keeps serving" &&
          (l.err as Record<string, unknown> | undefined)?.id === "INFERENCE_MODEL_CHECKSUM_MISMATCH",
      ),
    );
    expect(await servedVersion()).toBe("1");
    expect(readdirSync(join(inferenceDir, "model-cache", modelName, "3"))).toEqual([]);
    // Out of Production again: the server stops retrying and stays on v1.
    await rpc.transitionModelVersionStage({ name: modelName, version: v3, stage: Stage.ARCHIVED });
  }, 60_000);

  it("serves MODEL_PATH when it is set, even with REGISTRY_URL", async () => {
    const local = await startLoggedServer({ MODEL_PATH: models.irisB });
    try {
      const info = (await (await fetch(`${local.server.url}/model/info`)).json()) as Record<string, unknown>;
      expect(info).toMatchObject({ name: modelName, version: "1", source: "iris-b.onnx" });
    } finally {
      await local.server.shutdown();
    }
  });

  it("follows the models of MODEL_NAMES beside MODEL_NAME, each loaded and swapped on its own", async () => {
    const other = "linear-model";
    await rpc.createRegisteredModel({ name: other });
    const registerOther = async (file: string): Promise<bigint> => {
      const uploads = join(registryConfig.artifactRoot, "uploads");
      const copy = join(uploads, `${Date.now()}-${Math.random().toString(36).slice(2)}.onnx`);
      copyFileSync(file, copy);
      const created = await rpc.createModelVersion({ name: other, source: pathToFileURL(copy).href });
      return created.modelVersion?.version ?? 0n;
    };
    const promoteOther = (version: bigint) =>
      rpc.transitionModelVersionStage({ name: other, version, stage: Stage.PRODUCTION, archiveExistingVersions: true });
    await promoteOther(await registerOther(models.regression));
    const multi = await startLoggedServer({
      MODEL_NAMES: other,
      MLPIPE_DATA_DIR: mkdtempSync(join(tmpdir(), "mlpipe-inference-")),
    });
    try {
      const url = multi.server.url;
      const ready = async (name: string) => (await fetch(`${url}/models/${name}/ready`)).status === 200;
      await until(async () => (await ready(modelName)) && (await ready(other)));
      const listed = (await (await fetch(`${url}/models`)).json()) as { models: { name: string; follows: string }[] };
      expect(listed.models.map((m) => [m.name, m.follows])).toEqual([
        [modelName, "Production"],
        [other, "Production"],
      ]);
      const linear = await postJson(`${url}/models/${other}/predict`, { features: setosa });
      expect(linear.body).toMatchObject({ model_version: "1" });
      const servedBefore = (await postJson(`${url}/predict`, { features: setosa })).body.model_version;

      // A promotion of the other model swaps it alone.
      await promoteOther(await registerOther(models.irisB));
      await until(
        async () => (await postJson(`${url}/predict`, { features: setosa, model: other })).body.model_version === "2",
      );
      const swapped = await postJson(`${url}/predict`, { features: setosa, model: other });
      expect(swapped.body.probability).toBeCloseTo(probability(irisWeightsB, setosa), 4);
      expect((await postJson(`${url}/predict`, { features: setosa })).body.model_version).toBe(servedBefore);
    } finally {
      await multi.server.shutdown();
    }
  }, 60_000);

  it("splits traffic between the champion and challenger aliases as the registry's split says (canary)", async () => {
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "champion", version: 1n });
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "challenger", version: 2n });
    // The registry refuses a split that is not one.
    await expect(
      rpc.setRegisteredModelTag({ name: modelName, key: "mlpipe.traffic_split", value: "champion=90,challenger=20" }),
    ).rejects.toThrow(/sum to 100, not 110/);
    await rpc.setRegisteredModelTag({
      name: modelName,
      key: "mlpipe.traffic_split",
      value: "champion=70,challenger=30",
    });
    const canary = await startLoggedServer({
      MODEL_STAGE: "champion",
      MLPIPE_DATA_DIR: mkdtempSync(join(tmpdir(), "mlpipe-inference-")),
    });
    const canaryGrpc = createGrpcClient(InferenceService, new URL(canary.server.url).host);
    try {
      const url = canary.server.url;
      type Listed = { models: { traffic_split?: { alias: string; percent: number; version: string }[] }[] };
      const split = async () => ((await (await fetch(`${url}/models`)).json()) as Listed).models[0]?.traffic_split;
      await until(async () => canary.server.readiness.serving && (await split())?.[1]?.version === "2");
      expect(await split()).toEqual([
        { alias: "champion", percent: 70, version: "1" },
        { alias: "challenger", percent: 30, version: "2" },
      ]);

      // Without a routing key: exactly the split's shares over 100 requests, each answer naming its version.
      const versions: unknown[] = [];
      for (let i = 0; i < 100; i++)
        versions.push((await postJson(`${url}/predict`, { features: setosa })).body.model_version);
      expect(versions.filter((v) => v === "1")).toHaveLength(70);
      expect(versions.filter((v) => v === "2")).toHaveLength(30);

      // With one: the same version every time, on every surface.
      for (const key of ["user-1", "user-2", "user-3"]) {
        const first = (await postJson(`${url}/predict`, { features: setosa, routing_key: key })).body.model_version;
        for (let i = 0; i < 5; i++) {
          expect((await postJson(`${url}/predict`, { features: setosa, routing_key: key })).body.model_version).toBe(
            first,
          );
          expect((await canaryGrpc.predict({ features: setosa, routingKey: key })).modelVersion).toBe(first);
        }
      }
      const badKey = await postJson(`${url}/predict`, { features: setosa, routing_key: 7 });
      expect(badKey.status).toBe(400);
      expect(badKey.body.error).toMatchObject({ field: "routing_key" });

      // A pinned version bypasses the split, the challenger's alias included.
      const pinned = await postJson(`${url}/predict`, { features: setosa, model_version: "challenger" });
      expect(pinned.body.model_version).toBe("2");
      expect(pinned.body.probability).toBeCloseTo(probability(irisWeightsB, setosa), 4);

      // Clearing the split sends everything to the champion, and the challenger is unloaded.
      await rpc.deleteRegisteredModelTag({ name: modelName, key: "mlpipe.traffic_split" });
      await until(async () => (await split()) === undefined);
      const after = await Promise.all(
        Array.from(
          { length: 20 },
          async () => (await postJson(`${url}/predict`, { features: setosa })).body.model_version,
        ),
      );
      expect(new Set(after)).toEqual(new Set(["1"]));
      await until(async () => canary.log.lines.some((l) => l.msg === "model unloaded" && l.version === "2"));
    } finally {
      canaryGrpc.close();
      await canary.server.shutdown();
    }
  }, 60_000);

  it("mirrors requests to the shadow aliases of the registry's mlpipe.shadow tag, answering from the primary only", async () => {
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "champion", version: 1n });
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "challenger", version: 2n });
    const regression = await register(models.regression);
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "other", version: regression });
    // The registry refuses shadow routes that are not ones.
    await expect(
      rpc.setRegisteredModelTag({ name: modelName, key: "mlpipe.shadow", value: "challenger=101" }),
    ).rejects.toThrow(/0 to 100/);
    await rpc.setRegisteredModelTag({ name: modelName, key: "mlpipe.shadow", value: "challenger=100,other=50" });
    const shadowed = await startLoggedServer({
      MODEL_STAGE: "champion",
      MLPIPE_DATA_DIR: mkdtempSync(join(tmpdir(), "mlpipe-inference-")),
    });
    const counts = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const v of (await shadowed.server.metrics.shadowRequests.get()).values) {
        out[`${v.labels.alias}:${v.labels.outcome}`] = v.value;
      }
      return out;
    };
    const mirrored = (c: Record<string, number>, alias: string) =>
      (c[`${alias}:agree`] ?? 0) + (c[`${alias}:disagree`] ?? 0) + (c[`${alias}:error`] ?? 0);
    try {
      const url = shadowed.server.url;
      // Mirrors start once both shadow versions are loaded.
      await until(async () => {
        if (!shadowed.server.readiness.serving) return false;
        await postJson(`${url}/predict`, { features: setosa });
        const c = await counts();
        return mirrored(c, "challenger") > 0 && mirrored(c, "other") > 0;
      });
      const before = await counts();
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          postJson(`${url}/predict`, { features: i % 2 === 0 ? setosa : virginica }),
        ),
      );
      // Every answer is the primary's (the champion, version 1), with its probabilities.
      for (const [i, a] of answers.entries()) {
        expect(a.status).toBe(200);
        expect(a.body.model_version).toBe("1");
        expect(a.body.probability).toBeCloseTo(probability(irisWeights, i % 2 === 0 ? setosa : virginica), 4);
      }
      await until(async () => {
        const c = await counts();
        return mirrored(c, "challenger") + (c["challenger:dropped"] ?? 0) >= mirrored(before, "challenger") + 40;
      });
      const after = await counts();
      // The regression model never predicts an iris class: every compared mirror to it disagrees.
      expect(after["other:agree"] ?? 0).toBe(0);
      expect(after["other:disagree"] ?? 0).toBeGreaterThan(0);
      expect(after["challenger:error"] ?? 0).toBe(0);
      const latency = (await shadowed.server.metrics.shadowLatency.get()).values.find(
        (v) => v.metricName === "shadow_latency_seconds_count" && v.labels.alias === "challenger",
      );
      expect(latency?.value).toBeGreaterThan(0);
      // A pinned version is not mirrored. First let the mirrors still running (the warm-up's
      // included) finish: the count is the same on two reads in a row.
      let settled = -1;
      await until(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const n = mirrored(await counts(), "challenger");
        const same = n === settled;
        settled = n;
        return same;
      });
      const pinnedBefore = settled;
      for (let i = 0; i < 5; i++) await postJson(`${url}/predict`, { features: setosa, model_version: "1" });
      await new Promise((resolve) => setImmediate(resolve));
      expect(mirrored(await counts(), "challenger")).toBe(pinnedBefore);
      // Clearing the tag stops mirroring and unloads the shadow versions.
      await rpc.deleteRegisteredModelTag({ name: modelName, key: "mlpipe.shadow" });
      await until(async () => shadowed.log.lines.some((l) => l.msg === "model unloaded" && l.version === "2"));
      const cleared = mirrored(await counts(), "challenger");
      for (let i = 0; i < 5; i++) await postJson(`${url}/predict`, { features: setosa });
      expect(mirrored(await counts(), "challenger")).toBe(cleared);
    } finally {
      await rpc.deleteRegisteredModelAlias({ name: modelName, alias: "other" });
      await shadowed.server.shutdown();
    }
  }, 60_000);

  it("reuses a cached, verified file after a restart without downloading it again", async () => {
    grpc.close();
    await server.shutdown();
    // A download of v1 would now fail its checksum: serving v1 proves the cache was used.
    await corruptStoredCopy(1n, new Uint8Array([1, 2, 3]));
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "champion", version: 1n });
    server = await startServer({ MODEL_STAGE: "champion" });
    grpc = createGrpcClient(InferenceService, new URL(server.url).host);
    await until(async () => server.readiness.serving);
    expect(await servedVersion()).toBe("1");
    expect(serverLog.lines.some((l) => l.msg === "model file reused from the cache" && l.version === "1")).toBe(true);
    expect(serverLog.lines.some((l) => l.msg === "model file downloaded from the registry")).toBe(false);
    // And it follows the alias.
    await rpc.setRegisteredModelAlias({ name: modelName, alias: "champion", version: 2n });
    await until(async () => (await servedVersion()) === "2");
  }, 60_000);
});
