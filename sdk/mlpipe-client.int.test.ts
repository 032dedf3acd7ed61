import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelVersionStatus, Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { RunStatus } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { writeTestModels } from "../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";
import { createMlpipeClient, type MlpipeClient } from "./index.js";

let server: TestRegistryServer;
let dir: string;

beforeAll(async () => {
  server = await startTestRegistryServer();
  dir = await mkdtemp(join(tmpdir(), "mlpipe-sdk-"));
});

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function download(client: MlpipeClient, runId: string, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const message of client.tracking.downloadArtifact({ runId, path })) {
    if (message.content.case === "chunk") parts.push(Buffer.from(message.content.value));
  }
  return Buffer.concat(parts);
}

describe.each(["connect", "grpc"] as const)("SDK over %s", (protocol) => {
  it("logs a run in batches, uploads artifacts and ends it FINISHED", async () => {
    const client = createMlpipeClient({ url: server.url, protocol, flushIntervalMs: 50 });
    const big = join(dir, `${protocol}-weights.bin`);
    const content = randomBytes(700 * 1024 + 3); // three upload chunks, the last one partial
    await writeFile(big, content);
    const tree = join(dir, `${protocol}-tree`);
    await mkdir(join(tree, "sub"), { recursive: true });
    await writeFile(join(tree, "a.txt"), "a");
    await writeFile(join(tree, "sub", "b.txt"), "bb");

    const runId = await client.withRun(
      { experiment: `sdk-${protocol}`, runName: "batched", tags: { team: "ml" } },
      async (run) => {
        await run.logParams({ lr: 0.1, epochs: 2500, shuffle: true });
        // 2 metrics x 1250 steps = 2500 points: three LogBatch calls at least.
        for (let step = 0; step < 1250; step++) await run.logMetrics({ loss: 1 / (step + 1), acc: step / 1250 }, step);
        await run.setTag("phase", "done");
        const file = await run.logArtifact(big, "weights/w.bin");
        expect(file).toMatchObject({ path: "weights/w.bin", fileSize: BigInt(content.length) });
        expect(file.sha256).toBe(createHash("sha256").update(content).digest("hex"));
        const files = await run.logArtifacts(tree, "tree");
        expect(files.map((f) => f.path)).toEqual(["tree/a.txt", "tree/sub/b.txt"]);
        return run.runId;
      },
    );

    const run = (await client.tracking.getRun({ runId })).run;
    expect(run?.info?.status).toBe(RunStatus.FINISHED);
    expect(run?.info?.runName).toBe("batched");
    expect(run?.data?.params).toEqual({ lr: "0.1", epochs: "2500", shuffle: "true" });
    expect(run?.data?.tags).toMatchObject({ team: "ml", phase: "done" });
    const history = await client.tracking.getMetricHistory({ runId, metricKey: "loss" });
    expect(history.metrics.map((m) => Number(m.step))).toEqual(Array.from({ length: 1250 }, (_, i) => i));
    expect((await download(client, runId, "weights/w.bin")).equals(content)).toBe(true);
    expect((await download(client, runId, "tree/sub/b.txt")).toString()).toBe("bb");
  });
});

describe("SDK artifact downloads", () => {
  it("brings back what logArtifacts uploaded, file by file, for a directory and for the whole run", async () => {
    const client = createMlpipeClient({ url: server.url });
    const tree = join(dir, "download-tree");
    const weights = randomBytes(600 * 1024 + 7); // several download chunks
    await mkdir(join(tree, "sub", "deeper"), { recursive: true });
    await writeFile(join(tree, "weights.bin"), weights);
    await writeFile(join(tree, "sub", "b.txt"), "bb");
    await writeFile(join(tree, "sub", "deeper", "c.txt"), "ccc");
    const { runId, fromHandle } = await client.withRun({ experiment: "sdk-download" }, async (run) => {
      await run.logArtifacts(tree, "model");
      await run.logArtifact(join(tree, "sub", "b.txt"), "notes.txt");
      const dest = join(dir, "download-handle");
      return { runId: run.runId, fromHandle: await run.downloadArtifacts("model/sub", dest) };
    });
    expect(fromHandle.map((f) => f.path)).toEqual(["model/sub/b.txt", "model/sub/deeper/c.txt"]);
    expect(await readFile(join(dir, "download-handle", "deeper", "c.txt"), "utf8")).toBe("ccc");

    const progress: number[] = [];
    const dest = join(dir, "download-dir");
    const files = await client.downloadArtifacts(runId, "model", dest, { onProgress: (done) => progress.push(done) });
    expect(files.map((f) => [f.path, f.fileSize])).toEqual([
      ["model/sub/b.txt", 2n],
      ["model/sub/deeper/c.txt", 3n],
      ["model/weights.bin", BigInt(weights.length)],
    ]);
    expect(progress.at(-1)).toBe(weights.length + 5);
    expect((await readFile(join(dest, "weights.bin"))).equals(weights)).toBe(true);
    expect(await readFile(join(dest, "sub", "b.txt"), "utf8")).toBe("bb");
    expect(await readFile(join(dest, "sub", "deeper", "c.txt"), "utf8")).toBe("ccc");

    // Again into the same directory: files are replaced, nothing else appears.
    await client.downloadArtifacts(runId, "model", dest);
    expect((await readdir(dest, { recursive: true })).sort()).toEqual([
      "sub",
      "sub/b.txt",
      "sub/deeper",
      "sub/deeper/c.txt",
      "weights.bin",
    ]);

    const all = join(dir, "download-all");
    const everything = await client.downloadArtifacts(runId, "", all);
    expect(everything.map((f) => f.path)).toEqual([
      "model/sub/b.txt",
      "model/sub/deeper/c.txt",
      "model/weights.bin",
      "notes.txt",
    ]);
    expect(await readFile(join(all, "notes.txt"), "utf8")).toBe("bb");

    const single = join(dir, "download-single", "w.bin");
    const info = await client.downloadArtifact(runId, "model/weights.bin", single);
    expect(info.sha256).toBe(createHash("sha256").update(weights).digest("hex"));
    expect((await readFile(single)).equals(weights)).toBe(true);
  });

  it("says what is missing: a directory with no file under it, a file, a run", async () => {
    const client = createMlpipeClient({ url: server.url });
    const run = await client.startRun({ experiment: "sdk-download" });
    await run.logArtifact(join(dir, "download-tree", "sub", "b.txt"), "model/b.txt");
    await run.end();
    await expect(client.downloadArtifacts(run.runId, "nope", join(dir, "nope"))).rejects.toMatchObject({
      id: "SDK_ARTIFACT_NOT_FOUND",
      message: `run ${run.runId} has no artifact directory "nope"`,
    });
    await expect(client.downloadArtifacts(run.runId, "model/b.txt", join(dir, "nope"))).rejects.toMatchObject({
      id: "SDK_ARTIFACT_NOT_FOUND",
    });
    await expect(client.downloadArtifacts(run.runId, "../model", join(dir, "nope"))).rejects.toMatchObject({
      id: "INVALID_ARGUMENT",
      message: "invalid artifactDir: must not contain a `..` segment",
    });
    const missingFile = await client.downloadArtifact(run.runId, "model/c.txt", join(dir, "nope.txt")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(missingFile).toBeInstanceOf(ConnectError);
    expect(missingFile).toMatchObject({ code: Code.NotFound });
    await expect(readdir(dir)).resolves.not.toContain("nope.txt");
    await expect(
      client.downloadArtifacts("0123456789abcdef0123456789abcdef", "model", join(dir, "nope")),
    ).rejects.toMatchObject({ code: Code.NotFound, rawMessage: "run 0123456789abcdef0123456789abcdef does not exist" });
    await expect(readdir(dir)).resolves.not.toContain("nope");
  });
});

describe("SDK errors", () => {
  const client = () => createMlpipeClient({ url: server.url });

  it("withRun ends the run FAILED and rethrows the body's error", async () => {
    const failure = new Error("diverged");
    let runId = "";
    await expect(
      client().withRun({ experiment: "sdk-errors" }, async (run) => {
        runId = run.runId;
        await run.logMetric("loss", Number.NaN, 1);
        throw failure;
      }),
    ).rejects.toBe(failure);
    const run = (await client().tracking.getRun({ runId })).run;
    expect(run?.info?.status).toBe(RunStatus.FAILED);
    expect(run?.data?.metrics.map((m) => m.key)).toEqual(["loss"]);
  });

  it("surfaces the server's code and message of a rejected batch, and marks the run FAILED", async () => {
    const run = await client().startRun({ experiment: "sdk-errors" });
    await run.logParam("lr", "0.1");
    await run.flush();
    await run.logParam("lr", "0.2");
    const err = await run.end().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: Code.InvalidArgument });
    expect((err as ConnectError).rawMessage).toContain('param "lr" was already logged');
    const info = (await client().tracking.getRun({ runId: run.runId })).run?.info;
    expect(info?.status).toBe(RunStatus.FAILED);
  });

  it("rejects a missing local file with ENOENT and a dead server with UNAVAILABLE", async () => {
    const run = await client().startRun();
    await expect(run.logArtifact(join(dir, "missing.bin"))).rejects.toMatchObject({ code: "ENOENT" });
    await run.end();
    const dead = createMlpipeClient({ url: "http://127.0.0.1:1", retryPolicy: { attempts: 1, initialDelayMs: 1 } });
    await expect(dead.startRun({ experiment: "x" })).rejects.toMatchObject({ code: Code.Unavailable });
  });
});

describe("SDK registry helpers", () => {
  it("registers versions from run artifacts, stages and aliases them, and rejects a non-ONNX artifact", async () => {
    const client = createMlpipeClient({ url: server.url, actor: "sdk-test" });
    const models = writeTestModels();
    try {
      const sources = await client.withRun({ experiment: "sdk-registry" }, async (run) => {
        await run.logArtifact(models.iris, "model/model.onnx");
        await run.logArtifact(models.irisB, "model-b/model.onnx");
        await run.logArtifact(join(dir, `connect-tree`, "a.txt"), "not-a-model/model.onnx");
        return ["model/model.onnx", "model-b/model.onnx", "not-a-model/model.onnx"].map((p) => run.artifactSource(p));
      });
      const [a, b, bad] = sources as [string, string, string];

      const v1 = await client.registerModel("sdk-model", a, { description: "first", tags: { origin: "test" } });
      expect(v1).toMatchObject({
        name: "sdk-model",
        version: 1n,
        status: ModelVersionStatus.READY,
        createdBy: "sdk-test",
      });
      const v2 = await client.registerModel("sdk-model", b);
      expect(v2.version).toBe(2n);

      await client.setStage("sdk-model", 1, "Production");
      const promoted = await client.setStage("sdk-model", 2n, "Production", { archiveExistingVersions: true });
      expect(promoted.currentStage).toBe(Stage.PRODUCTION);
      const v1After = (await client.registry.getModelVersion({ name: "sdk-model", version: 1n })).modelVersion;
      expect(v1After?.currentStage).toBe(Stage.ARCHIVED);

      await client.setAlias("sdk-model", "champion", 2);
      const byAlias = (await client.registry.getModelVersionByAlias({ name: "sdk-model", alias: "champion" }))
        .modelVersion;
      expect(byAlias?.version).toBe(2n);

      const failed = await client.registerModel("sdk-model", bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failed).toMatchObject({ id: "REGISTRY_VERSION_NOT_READY", message: expect.stringContaining("FAILED") });
      await expect(client.setAlias("sdk-model", "champion", 99)).rejects.toMatchObject({ code: Code.NotFound });
    } finally {
      await rm(models.dir, { recursive: true, force: true });
    }
  });
});
