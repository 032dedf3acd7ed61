/**
 * examples/python/mlpipe_grpc_client.py against real inference and registry servers: Python's
 * grpcio with stubs of proto/mlpipe generated as the README documents ("Python clients"): `buf
 * build` (which compiles proto3 `optional`) writes a descriptor set, from which Debian's
 * grpc_tools (protoc 3.5, which cannot parse `optional` itself) generates only the mlpipe/ files, so
 * the vendored grpc/health/v1 never shadows grpcio's `grpc` package.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { startTestServer } from "../../test/support/inference-test-harness.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { runProcess } from "../../test/support/run-process.js";
import { describeWithTools, pythonGrpcTool } from "../../test/support/system-tools.js";

const root = join(import.meta.dirname, "..", "..");
const script = join(import.meta.dirname, "mlpipe_grpc_client.py");
const protoFiles = [
  "mlpipe/auth/v1/auth.proto",
  "mlpipe/auth/v1/policy.proto",
  "mlpipe/common/v1/error.proto",
  "mlpipe/inference/v1/inference.proto",
  "mlpipe/registry/v1/registry.proto",
  "mlpipe/tracking/v1/tracking.proto",
];

/** Runs a generation step; throws with its stderr when it fails. */
function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
}

describeWithTools("examples/python/mlpipe_grpc_client.py (grpcio, stubs of proto/mlpipe)", [pythonGrpcTool], () => {
  let inference: InferenceServer;
  let registry: TestRegistryServer;
  let stubs = "";

  beforeAll(async () => {
    stubs = mkdtempSync(join(tmpdir(), "mlpipe-py-stubs-"));
    const image = join(stubs, "mlpipe.binpb");
    // The generation the README documents.
    run(join(root, "node_modules", ".bin", "buf"), ["build", "proto", "-o", image]);
    run(pythonGrpcTool.command, [
      "-c",
      "import sys; from grpc_tools import protoc; sys.exit(protoc.main(['protoc'] + sys.argv[1:]))",
      `--descriptor_set_in=${image}`,
      `--python_out=${stubs}`,
      `--grpc_python_out=${stubs}`,
      ...protoFiles,
    ]);
    inference = await startTestServer({ MODEL_PATH: writeTestModels().iris, MAX_QUEUE_DELAY_US: "1000" });
    registry = await startTestRegistryServer({ logLevel: "silent" });
  }, 180_000);

  afterAll(async () => {
    await inference?.shutdown();
    await registry?.close();
    if (stubs !== "") rmSync(stubs, { recursive: true, force: true });
  });

  it("predicts, predicts a batch, gets INVALID_ARGUMENT, creates an experiment and a run and logs a batch", async () => {
    const result = await runProcess(
      pythonGrpcTool.command,
      [script, "--inference", new URL(inference.grpcUrl).host, "--tracking", registry.address],
      { env: { ...process.env, PYTHONPATH: stubs }, timeoutMs: 60_000 },
    );
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout) as {
      inference: {
        predict: { has_prediction: boolean; prediction: number; version: string };
        batch: number[];
        invalid: { code: string; details: string };
      };
      tracking: {
        experiment_id: string;
        run_id: string;
        metrics: Record<string, number>;
        params: Record<string, string>;
      };
    };
    // The rows of the script, classed by the test model's known weights.
    const labels = [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.0, 5.2, 2.3],
    ].map((row) => {
      const p = referenceProbabilities(irisWeights, irisBias, row);
      return p.indexOf(Math.max(...p));
    });
    expect(out.inference.predict).toEqual({ has_prediction: true, prediction: labels[0], version: "1" });
    expect(out.inference.batch).toEqual(labels);
    expect(out.inference.invalid.code).toBe("INVALID_ARGUMENT");
    expect(out.tracking.experiment_id).not.toBe("");
    expect(out.tracking.run_id).not.toBe("");
    expect(out.tracking.metrics).toEqual({ loss: 0.25 });
    expect(out.tracking.params).toEqual({ lr: "0.1" });
  });
});
