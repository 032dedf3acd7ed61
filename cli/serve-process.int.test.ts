/**
 * The inference server as a process (`mlpipe serve`): it drains on SIGTERM (readiness
 * false, new requests refused with 503 / UNAVAILABLE, in-flight requests finish) and exits 0.
 * A request is kept in flight by the test handler's latch (a file the test creates), not by timing.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { InferenceService } from "../gen/mlpipe/inference/v1/inference_pb.js";
import { requestOnNewConnection } from "../test/support/cluster-processes.js";
import { createGrpcClient, isServiceError } from "../test/support/grpc-client.js";
import { postJson, readMetric, testHandlerPath, until } from "../test/support/inference-test-harness.js";
import { writeTestModels } from "../test/support/onnx-models.js";
import { spawnServerProcess } from "../test/support/server-process.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Spawns `mlpipe serve`; resolves with the child and its URLs once it logs "inference server started". */
async function spawnServer(
  extra: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; grpcUrl: string; exit: Promise<number | null> }> {
  const bin = new URL("../bin/mlpipe.js", import.meta.url).pathname;
  const env = {
    PATH: process.env.PATH ?? "",
    HOST: "127.0.0.1",
    INFERENCE_PORT: "0",
    INFERENCE_GRPC_PORT: "0",
    INFERENCE_WORKERS: "1",
    LOG_LEVEL: "info",
    ...extra,
  };
  const { child, ready, exit } = await spawnServerProcess<{ url: string; grpcUrl: string }>({
    args: [bin, "serve"],
    env,
    readyMessage: "inference server started",
    children,
  });
  return { child, url: ready.url, grpcUrl: ready.grpcUrl, exit };
}

describe("inference server process", () => {
  it("drains on SIGTERM: refuses new requests, finishes in-flight ones, exits 0", async () => {
    const latch = join(mkdtempSync(join(tmpdir(), "mlpipe-latch-")), "release");
    const { child, url, grpcUrl, exit } = await spawnServer({
      MODEL_PATH: writeTestModels().iris,
      MODEL_HANDLER: testHandlerPath,
      TEST_HANDLER_LATCH: latch,
      MAX_QUEUE_DELAY_US: "0",
    });
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);

    // 7777 blocks the worker until the latch file exists.
    const inFlight = postJson(`${url}/predict`, { features: [7777, 3.5, 1.4, 0.2] });
    await until(async () => (await readMetric(url, "inference_in_flight_requests")) === 1);

    child.kill("SIGTERM");
    // From here on, each request on a new connection: every HTTP worker process drains on its own,
    // and one with nothing in flight stops at once and closes its idle keep-alive connections, so
    // a request written to a pooled one as it closes fails with "other side closed" (the HTTP
    // keep-alive race; seen in CI). A new connection goes to a process still listening.
    await until(async () => {
      const out = await requestOnNewConnection(url, "GET", "/health/ready");
      return "status" in out && out.status === 503;
    });

    const refused = await requestOnNewConnection(url, "POST", "/predict", { features: setosa });
    expect(refused).toMatchObject({ status: 503, body: { error: { id: "INFERENCE_SHUTTING_DOWN" } } });
    const grpcClient = createGrpcClient(InferenceService, new URL(grpcUrl).host);
    try {
      const err = await grpcClient.predict({ features: setosa }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isServiceError(err) && err.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      grpcClient.close();
    }
    expect(existsSync(latch)).toBe(false);
    expect(child.exitCode).toBeNull();

    writeFileSync(latch, "");
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(finished.body.prediction).toBe(0);
    expect(await exit).toBe(0);
  });

  it("keeps onnxruntime's telemetry off: no device id or event cache in the user's home", async () => {
    const home = mkdtempSync(join(tmpdir(), "mlpipe-home-"));
    const { child, url, exit } = await spawnServer({ MODEL_PATH: writeTestModels().iris, HOME: home });
    expect((await postJson(`${url}/predict`, { features: setosa })).status).toBe(200);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    // onnxruntime-node 1.29+ writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid when on.
    expect(existsSync(join(home, ".cache", "Microsoft"))).toBe(false);
  });

  it("exits 1 when the model cannot be loaded, and 2 on a bad configuration", async () => {
    await expect(spawnServer({ MODEL_PATH: "/nonexistent/model.onnx" })).rejects.toThrow(/exited with 1/);
    await expect(spawnServer({ MODEL_PATH: "x.onnx", MAX_BATCH_SIZE: "lots" })).rejects.toThrow(/exited with 2/);
  });
});
