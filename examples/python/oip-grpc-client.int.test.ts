/**
 * examples/python/oip_grpc_client.py against a real inference server: Python's grpcio with stubs
 * generated from proto/inference/v2/grpc_predict_v2.proto by Debian's python3-grpc-tools (protoc
 * 3.5), as the README documents. ModelInfer with raw and typed contents, errors, ModelMetadata
 * and a ModelStreamInfer.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { startTestServer } from "../../test/support/inference-test-harness.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";
import { type ProcessResult, runProcess } from "../../test/support/run-process.js";
import { describeWithTools, pythonGrpcTool } from "../../test/support/system-tools.js";

const script = join(import.meta.dirname, "oip_grpc_client.py");
const protoRoot = join(import.meta.dirname, "..", "..", "proto");
const rows = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];

interface Outputs {
  readonly label: number[];
  readonly probabilities: number[];
}

interface ClientResult {
  readonly live: boolean;
  readonly ready: boolean;
  readonly server: string;
  readonly metadata: { name: string; versions: string[]; inputs: [string, string, number[]][] };
  readonly raw: { id: string; version: string; outputs: Outputs };
  readonly typed: { id: string; outputs: Outputs };
  readonly unknown_model: { code: string; details: string };
  readonly bad_datatype: { code: string; details: string };
  readonly stream: { id: string; error: string; outputs: Outputs | Record<string, never> }[];
}

/** Runs the client with a bounded wait (the server runs in this process, so asynchronously). */
function runClient(target: string, stubs: string): Promise<ProcessResult> {
  return runProcess(pythonGrpcTool.command, [script, "--target", target, "--model", "iris-classifier"], {
    env: { ...process.env, PYTHONPATH: stubs },
    timeoutMs: 60_000,
  });
}

function expectIris(outputs: Outputs | Record<string, never>): void {
  const o = outputs as Outputs;
  rows.forEach((row, r) => {
    const want = referenceProbabilities(irisWeights, irisBias, row);
    want.forEach((w, c) => {
      expect(o.probabilities[r * 3 + c]).toBeCloseTo(w, 4);
    });
    expect(o.label[r]).toBe(want.indexOf(Math.max(...want)));
  });
}

describeWithTools("examples/python/oip_grpc_client.py (grpcio)", [pythonGrpcTool], () => {
  let server: InferenceServer;
  let stubs = "";

  beforeAll(async () => {
    stubs = mkdtempSync(join(tmpdir(), "mlpipe-oip-stubs-"));
    // The generation the README documents, with the distribution's protoc.
    const gen = spawnSync(
      pythonGrpcTool.command,
      [
        "-m",
        "grpc_tools.protoc",
        "-I",
        protoRoot,
        `--python_out=${stubs}`,
        `--grpc_python_out=${stubs}`,
        "inference/v2/grpc_predict_v2.proto",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (gen.status !== 0) throw new Error(`grpc_tools.protoc failed: ${gen.stderr}`);
    server = await startTestServer({ MODEL_PATH: writeTestModels().iris, MAX_QUEUE_DELAY_US: "1000" });
  });

  afterAll(async () => {
    await server?.shutdown();
    if (stubs !== "") rmSync(stubs, { recursive: true, force: true });
  });

  it("infers with raw and typed contents, reads metadata, gets the protocol's errors and streams", async () => {
    const run = await runClient(new URL(server.grpcUrl).host, stubs);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as ClientResult;
    expect(result).toMatchObject({ live: true, ready: true, server: "mlpipe" });
    expect(result.metadata).toEqual({
      name: "iris-classifier",
      versions: ["1"],
      inputs: [["features", "FP32", [-1, 4]]],
    });
    expect(result.raw).toMatchObject({ id: "raw-1", version: "1" });
    expectIris(result.raw.outputs);
    expect(result.typed.id).toBe("typed-1");
    expectIris(result.typed.outputs);
    expect(result.unknown_model.code).toBe("NOT_FOUND");
    expect(result.unknown_model.details).toMatch(/model "resnet" is not served here/);
    expect(result.bad_datatype.code).toBe("INVALID_ARGUMENT");
    expect(result.bad_datatype.details).toMatch(/"BYTES" is not one of FP32/);
    expect(result.stream.map((a) => [a.id, a.error === ""])).toEqual([
      ["s1", true],
      ["s2", false],
      ["s3", true],
    ]);
    expect(result.stream[1]?.error).toMatch(/"resnet" is not served/);
    expectIris(result.stream[0]?.outputs ?? {});
    expectIris(result.stream[2]?.outputs ?? {});
  });
});
