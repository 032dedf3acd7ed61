/**
 * What the inference scenarios of one run share: the request corpus, the model files and the
 * servers, each started on first use and stopped once at the end of the run.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type TestModels, writeTestModels } from "../../test/support/onnx-models.js";
import {
  findFastapiPython,
  type StartedServer,
  startFastapiServer,
  startMlpipeServer,
  startNaiveServer,
  startNoopServer,
} from "./inference-servers.js";
import { loadIrisRows } from "./iris-corpus.js";

/** Worker time per row of {@link BenchFixtures.mlpipeRowCost}'s server: with 2 workers, 2,000 rows/s at most. */
export const rowCostMicros = 1000;

const rowCostHandler = fileURLToPath(new URL("../servers/row-cost-handler.ts", import.meta.url));

/** Worker threads of the mlpipe server under test (the memory target names two). */
export const mlpipeWorkers = 2;

/** Shared state of a run. */
export interface BenchFixtures {
  /** The iris rows every request is drawn from. */
  readonly rows: readonly (readonly number[])[];
  /** The small tabular model (a 4 x 3 softmax classifier, written by training/onnx-model-builder.ts) and a variant for swaps. */
  readonly models: TestModels;
  /**
   * mlpipe's inference server with default settings and {@link mlpipeWorkers} workers: one HTTP
   * worker process per core (INFERENCE_HTTP_WORKERS unset), the worker threads split across them.
   */
  mlpipe(): Promise<StartedServer>;
  /** The same server in one process (INFERENCE_HTTP_WORKERS=1), as before issue 16: the before of before/after. */
  mlpipeSingleProcess(): Promise<StartedServer>;
  /**
   * mlpipe's inference server whose rows cost {@link rowCostMicros} µs of worker time each
   * (bench/servers/row-cost-handler.ts): a server that saturates before the load generator does.
   */
  mlpipeRowCost(): Promise<StartedServer>;
  /** The no-op transport ceiling. */
  noop(): Promise<StartedServer>;
  /** The naive Node server. */
  naive(): Promise<StartedServer>;
  /**
   * The FastAPI stack as the issue measured it (`uvicorn app:app`, one process: about 2,200 req/s
   * under wrk with 16 connections), or undefined when no python3 has fastapi, uvicorn and sklearn.
   */
  fastapi(): Promise<StartedServer | undefined>;
  /** The same stack with {@link fastapiWorkers} uvicorn worker processes: one per core, a stronger baseline. */
  fastapiWorkers(): Promise<StartedServer | undefined>;
  /** Stops every server started and removes the model files. */
  close(): Promise<void>;
}

/** uvicorn worker processes of the stronger FastAPI baseline: one per core of this machine, as mlpipe's workers. */
export const fastapiWorkers = 2;

/** Creates the fixtures; nothing starts until first asked for. */
export function createBenchFixtures(): BenchFixtures {
  const models = writeTestModels();
  const rows = loadIrisRows();
  const started: Promise<StartedServer | undefined>[] = [];
  const once = <T extends StartedServer | undefined>(start: () => Promise<T>): (() => Promise<T>) => {
    let p: Promise<T> | undefined;
    return () => {
      if (p === undefined) {
        p = start();
        started.push(p.catch(() => undefined));
      }
      return p;
    };
  };
  return {
    rows,
    models,
    mlpipe: once(() => startMlpipeServer({ modelPath: models.iris, workers: mlpipeWorkers })),
    mlpipeSingleProcess: once(() =>
      startMlpipeServer({ modelPath: models.iris, workers: mlpipeWorkers, env: { INFERENCE_HTTP_WORKERS: "1" } }),
    ),
    mlpipeRowCost: once(() =>
      startMlpipeServer({
        modelPath: models.iris,
        workers: mlpipeWorkers,
        env: { MODEL_HANDLER: rowCostHandler, BENCH_ROW_COST_US: String(rowCostMicros) },
      }),
    ),
    noop: once(startNoopServer),
    naive: once(() => startNaiveServer(models.iris)),
    fastapi: once(async () => {
      const python = findFastapiPython();
      return python === undefined ? undefined : startFastapiServer(python, 1);
    }),
    fastapiWorkers: once(async () => {
      const python = findFastapiPython();
      return python === undefined ? undefined : startFastapiServer(python, fastapiWorkers);
    }),
    async close() {
      const servers = await Promise.all(started);
      await Promise.all(servers.map((s) => s?.child.stop()));
      rmSync(models.dir, { recursive: true, force: true });
    },
  };
}
