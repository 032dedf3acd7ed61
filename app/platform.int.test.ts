/**
 * startPlatform in-process, on temporary data directories and ephemeral ports of 127.0.0.1: the
 * demo is trained only for the iris model, follows an alias MODEL_STAGE names, and a platform with
 * nothing to serve still runs (not ready) and closes. The default path (demo at Production,
 * restart, hot swap) is covered end to end by cli/mlpipe.int.test.ts.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config.js";
import { createLogger } from "../core/logger.js";
import { Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { createMlpipeClient } from "../sdk/index.js";
import { type Platform, startPlatform } from "./platform.js";

const dirs: string[] = [];
const platforms: Platform[] = [];

afterEach(async () => {
  await Promise.all(platforms.splice(0).map((p) => p.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function start(env: Readonly<Record<string, string>>): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), "mlpipe-platform-"));
  dirs.push(dir);
  const config = loadConfig({
    MLPIPE_DATA_DIR: dir,
    HOST: "127.0.0.1",
    REGISTRY_PORT: "0",
    INFERENCE_PORT: "0",
    INFERENCE_WORKERS: "1",
    ...env,
  });
  return startPlatform(config, createLogger({ level: "silent" })).then((p) => {
    platforms.push(p);
    return p;
  });
}

describe("startPlatform", () => {
  it("refuses a port in use before it opens the database", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    try {
      const address = holder.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const parent = mkdtempSync(join(tmpdir(), "mlpipe-platform-"));
      dirs.push(parent);
      const dir = join(parent, "data");
      const config = loadConfig({ MLPIPE_DATA_DIR: dir, HOST: "127.0.0.1", REGISTRY_PORT: String(address.port) });
      await expect(startPlatform(config, createLogger({ level: "silent" }))).rejects.toMatchObject({
        code: "EADDRINUSE",
      });
      expect(existsSync(dir)).toBe(false);
    } finally {
      holder.close();
    }
  });

  it("trains the demo for an alias MODEL_STAGE: Production and the alias both point at version 1", async () => {
    const platform = await start({ MODEL_STAGE: "champion" });
    expect(platform.model).toMatchObject({ kind: "trained", version: 1n });
    await platform.ready;
    // One HTTP worker process by default in-process: the inference server runs here (the cluster
    // of INFERENCE_HTTP_WORKERS > 1 forks the command's process: app/platform-cluster.int.test.ts).
    expect(platform.inference.kind).toBe("in-process");
    expect(platform.inferenceProcesses).toBe(1);
    expect(platform.serving).toBe(true);
    const res = await fetch(`${platform.inferenceUrl}/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ features: [6.7, 3.0, 5.2, 2.3] }),
    });
    expect(await res.json()).toMatchObject({ prediction: 2, model_version: "1" });
    const client = createMlpipeClient({ url: platform.registryUrl });
    const byAlias = await client.registry.getModelVersionByAlias({ name: "iris-classifier", alias: "champion" });
    expect(byAlias.modelVersion?.version).toBe(1n);
    const production = await client.registry.getLatestVersions({ name: "iris-classifier", stages: [Stage.PRODUCTION] });
    expect(production.modelVersions.map((v) => v.version)).toEqual([1n]);
  });

  it("trains nothing for a model that is not the demo's, and runs not ready until one is registered", async () => {
    const platform = await start({ MODEL_NAME: "fraud-detector" });
    expect(platform.model).toEqual({ kind: "nothing-to-serve" });
    const client = createMlpipeClient({ url: platform.registryUrl });
    const models = await client.registry.searchRegisteredModels({});
    expect(models.registeredModels).toEqual([]);
    expect((await fetch(`${platform.inferenceUrl}/health/ready`)).status).toBe(503);
    expect(platform.serving).toBe(false);
    // close() resolves although no model ever served.
    await platform.close();
  });
});
