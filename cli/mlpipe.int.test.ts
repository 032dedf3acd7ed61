/**
 * `mlpipe` end to end, as a user runs it: the package bin (bin/mlpipe.js) spawned as child
 * processes on a temporary data directory and ephemeral ports. `mlpipe start` trains and serves
 * the demo model; a second version trained with the SDK is promoted with `mlpipe promote` while
 * requests flow over HTTP and gRPC, none failing; after a restart the data is all there (no
 * retraining, version 2 still served). Bad command lines fail with a message and an exit code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceService } from "../gen/mlpipe/inference/v1/inference_pb.js";
import { closedPort } from "../test/support/closed-port.js";
import { createGrpcClient } from "../test/support/grpc-client.js";
import { writeTestModels } from "../test/support/onnx-models.js";
import { type ServerProcess, spawnServerProcess } from "../test/support/server-process.js";
import { trainIris } from "../training/train-iris.js";

const bin = new URL("../bin/mlpipe.js", import.meta.url).pathname;
const setosa = [5.1, 3.5, 1.4, 0.2];
const children: ChildProcess[] = [];
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "mlpipe-cli-e2e-"));
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

/** The environment of every child: nothing of the developer's but PATH. */
function childEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  // One process serving (INFERENCE_HTTP_WORKERS): the cluster is app/inference-cluster.int.test.ts's subject, and fewer
  // processes keep this long test within its time on a busy machine.
  return {
    PATH: process.env.PATH ?? "",
    LOG_LEVEL: "info",
    INFERENCE_WORKERS: "1",
    INFERENCE_HTTP_WORKERS: "1",
    ...extra,
  };
}

/** What a finished CLI invocation did. */
interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mlpipe <args>` to completion. */
function mlpipe(args: readonly string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], { env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

/** The "platform ready" log line of `mlpipe start`. */
interface ReadyLog {
  readonly registryUrl: string;
  readonly inferenceUrl: string;
  readonly inferenceGrpcUrl: string;
  readonly bootstrap: string;
  readonly version?: string;
}

/** Spawns `mlpipe <args>`; resolves once it logs `readyMessage`. */
function spawnServer<R>(args: readonly string[], readyMessage: string): Promise<ServerProcess<R>> {
  return spawnServerProcess<R>({ args: [bin, ...args], env: childEnv(), readyMessage, children });
}

/** Spawns `mlpipe start` on the test's data directory and ephemeral ports; resolves once it is ready. */
function startPlatformProcess(): Promise<ServerProcess<ReadyLog>> {
  const args = ["start", "--data-dir", dataDir, "--host", "127.0.0.1", "--registry-port", "0", "--inference-port", "0"];
  return spawnServer<ReadyLog>(args, "platform ready");
}

async function predictHttp(inferenceUrl: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${inferenceUrl}/predict`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ features: setosa }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Output of a failed command must be one clear line, never a stack trace. */
function expectCleanError(result: CliResult, pattern: RegExp): void {
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("mlpipe start, promote, restart", () => {
  it("serves the demo model, hot-swaps to a promoted version without failing a request, keeps everything across a restart, and runs as separate processes", async () => {
    const first = await startPlatformProcess();
    const { registryUrl, inferenceUrl, inferenceGrpcUrl } = first.ready;
    expect(first.ready.bootstrap).toBe("trained");
    expect(first.ready.version).toBe("1");

    const http = await predictHttp(inferenceUrl);
    expect(http.status).toBe(200);
    expect(http.body).toMatchObject({ prediction: 0, model_version: "1" });
    const grpc = createGrpcClient(InferenceService, new URL(inferenceGrpcUrl).host);
    try {
      const viaGrpc = await grpc.predict({ features: setosa });
      expect(viaGrpc.modelVersion).toBe("1");
      expect(viaGrpc.prediction?.prediction).toBe(0);

      // A second version, trained with the SDK with other hyperparameters; registered, not staged.
      const trained = await trainIris({
        trackingUrl: registryUrl,
        epochs: 40,
        learningRate: 0.2,
        seed: 7,
        register: true,
      });
      expect(trained.modelVersion?.version).toBe(2n);

      // Requests flow over both protocols while the CLI promotes version 2.
      const seen: string[] = [];
      const failures: unknown[] = [];
      let stop = false;
      const traffic = (async () => {
        for (let i = 0; !stop; i++) {
          try {
            if (i % 2 === 0) {
              const r = await predictHttp(inferenceUrl);
              if (r.status !== 200) failures.push(r.body);
              else seen.push(String(r.body.model_version));
            } else {
              seen.push((await grpc.predict({ features: setosa })).modelVersion);
            }
          } catch (err) {
            failures.push(err);
          }
        }
      })();
      const promoted = await mlpipe([
        "promote",
        "iris-classifier",
        "2",
        "production",
        "--archive-existing",
        "--registry-url",
        registryUrl,
      ]);
      expect(promoted).toMatchObject({ code: 0, stdout: "iris-classifier version 2 is now in Production\n" });
      while (seen.at(-1) !== "2" && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
      stop = true;
      await traffic;
      expect(failures).toEqual([]);
      // Version 1 answered until the swap, version 2 from then on.
      const swap = seen.indexOf("2");
      expect(swap).toBeGreaterThan(0);
      expect(seen.slice(0, swap).every((v) => v === "1")).toBe(true);
      expect(seen.slice(swap).every((v) => v === "2")).toBe(true);
    } finally {
      grpc.close();
    }

    // A server error is reported as one line with exit code 1.
    const missing = await mlpipe(["promote", "no-such-model", "1", "Staging", "--registry-url", registryUrl]);
    expect(missing.code).toBe(1);
    expectCleanError(missing, /^error: not_found: /);

    first.child.kill("SIGTERM");
    expect(await first.exit).toBe(0);

    // Restart on the same data: nothing retrained, version 2 still served.
    const second = await startPlatformProcess();
    try {
      expect(second.ready.bootstrap).toBe("existing");
      expect(second.ready.version).toBe("2");
      expect(second.logs.some((l) => l.msg === "trained and registered the iris demo model")).toBe(false);
      const after = await predictHttp(second.ready.inferenceUrl);
      expect(after).toMatchObject({ status: 200, body: { model_version: "2" } });

      const url = ["--registry-url", second.ready.registryUrl];
      const versions = await mlpipe(["versions", "list", "iris-classifier", "--json", ...url]);
      expect(versions.code).toBe(0);
      const listed = JSON.parse(versions.stdout) as { modelVersions: { version: string; currentStage: string }[] };
      expect(listed.modelVersions.map((v) => [v.version, v.currentStage])).toEqual([
        ["2", "STAGE_PRODUCTION"],
        ["1", "STAGE_ARCHIVED"],
      ]);
      const runs = await mlpipe(["runs", "list", "--experiment", "iris", ...url]);
      expect(runs.code).toBe(0);
      expect(runs.stdout).toMatch(/metrics\.final_accuracy/);
      expect(runs.stdout).toMatch(/params\.epochs/);
      expect(runs.stdout.trim().split("\n")).toHaveLength(4); // title, header, two runs
      const table = await mlpipe(["models", "list", ...url]);
      expect(table.stdout).toMatch(/^iris-classifier\s+2\s+-/m);
      // The split's aliases must exist (the typo case is the traffic test's below).
      expect((await mlpipe(["alias", "set", "iris-classifier", "champion", "2", ...url])).code).toBe(0);
      expect((await mlpipe(["alias", "set", "iris-classifier", "challenger", "1", ...url])).code).toBe(0);
      const split = await mlpipe([
        "traffic",
        "set",
        "iris-classifier",
        "champion=90",
        "challenger=10",
        "--json",
        ...url,
      ]);
      expect(split.code).toBe(0);
      expect(JSON.parse(split.stdout)).toEqual({
        name: "iris-classifier",
        routes: [
          { alias: "champion", percent: 90 },
          { alias: "challenger", percent: 10 },
        ],
      });
      expect((await mlpipe(["traffic", "clear", "iris-classifier", ...url])).stdout).toBe(
        "iris-classifier: traffic split cleared\n",
      );
      const shadow = await mlpipe(["traffic", "shadow", "iris-classifier", "challenger=100", ...url]);
      expect(shadow).toMatchObject({ code: 0, stdout: "iris-classifier: shadow challenger 100%\n" });
      expect((await mlpipe(["traffic", "shadow", "iris-classifier", "--clear", ...url])).stdout).toBe(
        "iris-classifier: shadow cleared\n",
      );
      const predicted = await mlpipe(["predict", "--features", setosa.join(","), "--url", second.ready.inferenceUrl]);
      expect(predicted).toMatchObject({ code: 0 });
      expect(predicted.stdout).toMatch(/^prediction 0 \(probability 0\.\d+\), model version 2\n$/);
    } finally {
      second.child.kill("SIGTERM");
    }
    expect(await second.exit).toBe(0);

    // The same pieces as separate processes: the registry alone, an inference server following it.
    const registry = await spawnServer<{ url: string }>(
      ["registry", "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0"],
      "registry ready",
    );
    try {
      const cacheDir = join(dataDir, "separate-inference");
      const serve = await spawnServer<{ url: string }>(
        ["serve", "--registry-url", registry.ready.url, "--host", "127.0.0.1", "--port", "0", "--data-dir", cacheDir],
        "inference server started",
      );
      try {
        while ((await fetch(`${serve.ready.url}/health/ready`)).status !== 200) {
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(await predictHttp(serve.ready.url)).toMatchObject({ status: 200, body: { model_version: "2" } });
      } finally {
        serve.child.kill("SIGINT");
      }
      expect(await serve.exit).toBe(0);
    } finally {
      registry.child.kill("SIGTERM");
    }
    expect(await registry.exit).toBe(0);
    // Four process starts (two of them training or loading a model) on two shared cores: about 35 s
    // on a busy machine, so the default 60 s leaves too little room.
  }, 180_000);
});

describe("mlpipe traffic against a registry", () => {
  it("refuses a split naming a missing alias and deleting an alias the split names, exiting 1", async () => {
    const registry = await spawnServer<{ url: string }>(
      ["registry", "--data-dir", join(dataDir, "traffic-registry"), "--host", "127.0.0.1", "--port", "0"],
      "registry ready",
    );
    try {
      const url = ["--registry-url", registry.ready.url];
      const model = writeTestModels().iris;
      expect((await mlpipe(["register", "routed", model, ...url])).code).toBe(0);
      expect((await mlpipe(["alias", "set", "routed", "champion", "1", ...url])).code).toBe(0);
      const typo = await mlpipe(["traffic", "set", "routed", "champion=90", "typo=10", ...url]);
      expect(typo.code).toBe(1);
      expectCleanError(
        typo,
        /error: failed_precondition: mlpipe.traffic_split names alias "typo", which registered model "routed" does not have; set the alias first/,
      );
      expect((await mlpipe(["traffic", "set", "routed", "champion=100", ...url])).code).toBe(0);
      const inUse = await mlpipe(["alias", "delete", "routed", "champion", ...url]);
      expect(inUse.code).toBe(1);
      expectCleanError(
        inUse,
        /error: failed_precondition: alias "champion" of registered model "routed" is still named by its mlpipe.traffic_split; change or clear it first/,
      );
      expect((await mlpipe(["traffic", "clear", "routed", ...url])).code).toBe(0);
      expect(await mlpipe(["alias", "delete", "routed", "champion", ...url])).toMatchObject({
        code: 0,
        stdout: "deleted routed@champion\n",
      });
    } finally {
      registry.child.kill("SIGTERM");
    }
    expect(await registry.exit).toBe(0);
  }, 120_000);
});

describe("mlpipe with bad input", () => {
  it("names an unknown command and exits 2", async () => {
    const r = await mlpipe(["frobnicate"]);
    expect(r.code).toBe(2);
    expectCleanError(r, /error: invalid_argument: invalid command: "frobnicate" is not a command/);
  });

  it("names a missing argument and exits 2", async () => {
    const r = await mlpipe(["promote", "iris-classifier"]);
    expect(r.code).toBe(2);
    expectCleanError(r, /missing <version>; usage: mlpipe promote <model> <version> <stage>/);
  });

  it("explains a traffic split that is not one and exits 2, before calling the registry", async () => {
    const r = await mlpipe(["traffic", "set", "iris-classifier", "champion=90", "challenger=20"]);
    expect(r.code).toBe(2);
    expectCleanError(r, /the percents must sum to 100, not 110/);
  });

  it("explains shadow routes that are not ones and exits 2, before calling the registry", async () => {
    const r = await mlpipe(["traffic", "shadow", "iris-classifier", "challenger=101"]);
    expect(r.code).toBe(2);
    expectCleanError(r, /challenger's percent must be 0 to 100/);
    const both = await mlpipe(["traffic", "shadow", "iris-classifier", "challenger=10", "--clear"]);
    expect(both.code).toBe(2);
    expectCleanError(both, /none with --clear/);
  });

  it("says the server is unreachable and exits 3", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await mlpipe(["models", "list", "--registry-url", url]);
    expect(r.code).toBe(3);
    expectCleanError(r, new RegExp(`error: unavailable: cannot reach the server at ${url} \\(ECONNREFUSED\\)`));
  });
});
