import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ModelVersionStatus, Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { RunStatus } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createMlpipeClient, type MlpipeClient } from "../../sdk/index.js";
import { type TestModels, writeTestModels } from "../../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { type ProcessResult, runProcess } from "../../test/support/run-process.js";
import { describeWithTools, python3Tool } from "../../test/support/system-tools.js";
import { generateTestCertificates, writeServerFiles } from "../../test/support/test-certificates.js";

const script = join(import.meta.dirname, "log_and_register.py");

/** Runs the example with the machine's python3 (asynchronously: the server runs in this process). */
function runScript(args: readonly string[]): Promise<ProcessResult> {
  return runProcess("python3", [script, ...args]);
}

describeWithTools("examples/python/log_and_register.py", [python3Tool], () => {
  let server: TestRegistryServer;
  let models: TestModels;
  let client: MlpipeClient;

  beforeAll(async () => {
    server = await startTestRegistryServer();
    models = writeTestModels();
    client = createMlpipeClient({ url: server.url });
  });

  afterAll(async () => {
    await server?.close();
    if (models !== undefined) await rm(models.dir, { recursive: true, force: true });
  });

  it("logs a run over Connect JSON, streams the model up, registers, stages and aliases it", async () => {
    const result = await runScript([
      "--url",
      server.url,
      "--model",
      models.iris,
      "--experiment",
      "python",
      "--register",
      "iris-python",
      "--stage",
      "Staging",
      "--alias",
      "champion",
    ]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout) as Record<string, unknown> & { run_id: string };
    const sha256 = createHash("sha256")
      .update(await readFile(models.iris))
      .digest("hex");
    expect(out).toMatchObject({
      duplicate_retry: true,
      artifact: { path: "model/model.onnx", sha256 },
      model_name: "iris-python",
      version: 1,
      stage: "STAGE_STAGING",
    });

    const run = (await client.tracking.getRun({ runId: out.run_id })).run;
    expect(run?.info?.status).toBe(RunStatus.FINISHED);
    expect(run?.data?.params).toMatchObject({ epochs: "10" });
    // The batch was sent twice with one batch_id: its 10 points are stored once.
    const history = await client.tracking.getMetricHistory({ runId: out.run_id, metricKey: "loss" });
    expect(history.metrics).toHaveLength(10);

    const version = (await client.registry.getModelVersionByAlias({ name: "iris-python", alias: "champion" }))
      .modelVersion;
    expect(version).toMatchObject({
      version: 1n,
      status: ModelVersionStatus.READY,
      currentStage: Stage.STAGING,
      runId: out.run_id,
      artifactSha256: sha256,
      createdBy: "python-example",
    });
  });

  it("reports the server's error code and message and exits 1", async () => {
    const result = await runScript(["--url", server.url, "--model", models.iris, "--experiment", ""]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^invalid_argument: .*name/);
  });
});

describeWithTools("examples/python/log_and_register.py against a TLS registry with tokens", [python3Tool], () => {
  const adminToken = "bootstrap-admin-token-python-0123456789";
  let server: TestRegistryServer;
  let models: TestModels;
  let dir: string;
  let caFile: string;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-python-tls-"));
    const files = await writeServerFiles(dir, await generateTestCertificates());
    caFile = files.caFile;
    await writeFile(join(dir, "bootstrap"), adminToken);
    server = await startTestRegistryServer({
      env: {
        TLS_CERT_FILE: files.certFile,
        TLS_KEY_FILE: files.keyFile,
        REGISTRY_AUTH: "token",
        AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "bootstrap"),
      },
    });
    url = server.url.replace(/^http:/, "https:");
    models = writeTestModels();
  });

  afterAll(async () => {
    await server?.close();
    if (models !== undefined) await rm(models.dir, { recursive: true, force: true });
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const args = (): string[] => ["--url", url, "--model", models.iris, "--experiment", "python-tls"];
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => {
    const { MLPIPE_TOKEN: _token, MLPIPE_CA_FILE: _ca, ...rest } = process.env;
    return { ...rest, ...extra };
  };

  it("sends MLPIPE_TOKEN as a bearer token and trusts MLPIPE_CA_FILE", async () => {
    const ok = await runProcess("python3", [script, ...args()], {
      env: env({ MLPIPE_TOKEN: adminToken, MLPIPE_CA_FILE: caFile }),
    });
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const out = JSON.parse(ok.stdout) as { run_id: string };
    const client = createMlpipeClient({ url, caFile, token: adminToken });
    expect((await client.tracking.getRun({ runId: out.run_id })).run?.info?.status).toBe(RunStatus.FINISHED);
  });

  it("fails clearly without the token, and without the CA", async () => {
    const anonymous = await runProcess("python3", [script, ...args()], { env: env({ MLPIPE_CA_FILE: caFile }) });
    expect(anonymous.status).toBe(1);
    expect(anonymous.stderr).toMatch(/^unauthenticated: /m);
    const untrusted = await runProcess("python3", [script, ...args()], { env: env({ MLPIPE_TOKEN: adminToken }) });
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED|certificate verify failed/i);
  });
});
