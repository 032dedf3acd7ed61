/**
 * Loads model versions into the worker pool and decides which one answers. A new version is loaded
 * beside the served one, warmed on every worker (or, when a full batch of it is cheap, timed and
 * kept on the event loop: workers/inline-choice.ts), and switched to atomically; requests already
 * queued on the old version finish on it, then it is unloaded from the workers (hot swap).
 *
 * One manager per served model: a server serving several models (server/models/model-set.ts) has
 * one for each, sharing the worker pool and the process's memory budget, so each model is loaded,
 * batched, swapped and unloaded on its own.
 */
import { readFile, stat } from "node:fs/promises";
import { inferenceErrors, MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { createDynamicBatcher, type DynamicBatcher } from "../batching/dynamic-batcher.js";
import type { InferenceMetrics, QueueDepthSample } from "../inference-metrics.js";
import { chooseInline, type InlineExecution } from "../workers/inline-choice.js";
import type { WorkerPool } from "../workers/worker-pool.js";
import type { RunTask } from "../workers/worker-protocol.js";
import type { MemoryBudget, MemoryReservation } from "./memory-budget.js";
import type { ModelArtifact, ModelLoader } from "./model-loader.js";
import { type ModelSignature, readSignature, UnsupportedModelError } from "./onnx-signature.js";
import { allocate, elementSize, type NumericArray, type RawTensor } from "./tensor-types.js";

/** Rows of one request, already in the model's input element type: rows x features elements. */
export interface RowsInput {
  readonly data: NumericArray;
  readonly rows: number;
  /**
   * True when `data` spans the whole of a buffer that nothing else holds (the caller allocated it
   * for this request): a batch of this request alone then hands that buffer to the worker as is
   * (transferred) instead of copying it into a new one.
   */
  readonly ownsBuffer?: boolean;
}

/** The outputs for one request's rows, by output name, each [rows, ...]. */
export type RowsOutput = ReadonlyMap<string, RawTensor>;

/** Dynamic batching settings, per model version. */
export interface BatchingOptions {
  /** Largest batch in rows. */
  readonly maxBatchSize: number;
  /** Longest wait for a batch to fill, in microseconds. */
  readonly maxQueueDelayUs: number;
  /** Rows the queue holds before requests fail with INFERENCE_QUEUE_FULL. */
  readonly maxQueueRows: number;
}

/** A model version loaded in the workers. */
export interface LoadedModel {
  readonly artifact: ModelArtifact;
  /** Unique per load: the workers' session key. */
  readonly key: string;
  readonly signature: ModelSignature;
  /** When loading and warming finished, ms since the Unix epoch. */
  readonly loadedAt: number;
  readonly batcher: DynamicBatcher<RowsInput, RowsOutput>;
  /**
   * The batcher of requests mirrored to this version (shadow traffic): on the manager's shadow
   * pool when it has one (a thread at the lowest CPU priority, so that mirrors never take a core
   * from the requests being answered), else the same as `batcher`.
   */
  readonly shadowBatcher: DynamicBatcher<RowsInput, RowsOutput>;
}

/** Options of {@link createModelManager}. */
export interface ModelManagerOptions {
  /** The model's name, for metrics and logs before a version is loaded. */
  readonly name: string;
  /** The stage or alias it follows in the registry; "" (default) for a local file. */
  readonly follows?: string | undefined;
  readonly pool: WorkerPool;
  /**
   * The event loop as a second place to run batches: each version whose full batch is cheap
   * enough runs there instead of on `pool` (workers/inline-choice.ts); none: always `pool`.
   */
  readonly inline?: InlineExecution | undefined;
  /**
   * Where mirrored requests (shadow traffic) run: a pool whose threads have the lowest CPU
   * priority. None: they run where the version's own requests run.
   */
  readonly shadowPool?: WorkerPool | undefined;
  readonly batching: BatchingOptions;
  readonly metrics: InferenceMetrics;
  readonly logger: Logger;
  /** The process's model memory budget, shared by every model's manager; none: no limit. */
  readonly budget?: MemoryBudget | undefined;
}

/** The model manager of one model. */
export interface ModelManager {
  /** The model's name. */
  readonly name: string;
  /** The stage or alias it follows in the registry; "" for a local file. */
  readonly follows: string;
  /**
   * The last load failure, until a version is served (ListModels shows it). When it says the
   * version does not fit the memory budget (INFERENCE_MODEL_TOO_LARGE), requests that find nothing
   * served are told it instead of "not ready", since waiting will not help.
   */
  readonly lastFailure: MlpipeError | undefined;
  /** Rows queued per loaded version, for inference_queue_depth. */
  queueDepths(): QueueDepthSample[];
  /** The version answering requests that pin none; undefined until the first load finishes. */
  readonly served: LoadedModel | undefined;
  /** Every version that can answer now (the served one first). */
  loaded(): readonly LoadedModel[];
  /**
   * The version a request's `model_version` names: "" or "latest" for the served one, else a
   * version number, stage or alias (case-insensitive for stages). Synchronous, so that resolving and
   * queueing happen in one tick and a swap cannot slip between them.
   */
  resolve(spec: string): LoadedModel;
  /** Loads and warms a version beside the others without serving it by default. */
  load(loader: ModelLoader): Promise<LoadedModel>;
  /**
   * Loads and warms a version, makes it the served one, then retires every other version:
   * their queued requests finish, then they are unloaded. Resolves when the old versions are gone.
   * Swaps run one at a time.
   */
  swap(loader: ModelLoader): Promise<LoadedModel>;
  /**
   * Updates the stage and aliases of the loaded versions numbered `version` (the registry moved a
   * stage or alias without changing what is served), so that requests pinning a stage or alias and
   * ModelInfo follow the registry.
   */
  relabel(version: string, labels: Pick<ModelArtifact, "stage" | "aliases">): void;
  /** Finishes every queued request and unloads every version. */
  close(): Promise<void>;
}

let loadCounter = 0;

/**
 * Where a loaded version's batches run: `runner` for requests up to `maxRows` rows, the worker
 * pool beyond. Mutable: a version timed again may move to the event loop.
 */
interface Placement {
  runner: WorkerPool;
  maxRows: number;
  /** Where requests over `maxRows` go: the worker pool (or, for mirrors, the shadow pool). */
  readonly beyond?: WorkerPool;
  /** Called before each batch with the runner chosen for it; throws to fail the batch. */
  readonly admit?: (runner: WorkerPool) => void;
  /** The pending re-timing, if any. */
  retime: NodeJS.Timeout | undefined;
}

/** Versions timed under this many times the bound are timed again later (a busy loop may have slowed them). */
const retimeBelowFactor = 20;

/** Creates an empty manager: nothing is served until `swap` (or `load`) finishes. */
export function createModelManager(options: ModelManagerOptions): ModelManager {
  const { pool, metrics, logger, name } = options;
  let served: LoadedModel | undefined;
  let lastFailure: MlpipeError | undefined;
  /** The memory reserved by each loaded version, by its key. */
  const reservations = new Map<string, MemoryReservation>();
  /** Where each loaded version's batches run (the worker pool or the event loop), by its key. */
  const placements = new Map<string, Placement>();
  /** The memory reserved for the shadow thread's session of each version mirrored there, by its key. */
  const shadowReservations = new Map<string, MemoryReservation>();
  /** Versions whose shadow session did not fit (logged once). */
  const shadowRefused = new Set<string>();
  let others: LoadedModel[] = [];
  let swaps: Promise<unknown> = Promise.resolve();
  metrics.queueCapacity.set(options.batching.maxQueueRows);
  // The model's series exists from the start at 0, so that increase() and alerts over it see the
  // first failure (a labelled counter has no series until it is first incremented).
  metrics.loadFailures.inc({ model: name }, 0);

  function labels(a: ModelArtifact): { model: string; version: string } {
    return { model: a.name, version: a.version };
  }

  /**
   * The batcher of one version's requests (`placement`), or of the requests mirrored to it (role
   * "shadow": its batches are not serving's, so they stay out of the batch size and queue time
   * metrics, while their rows count as computed).
   */
  function makeBatcher(
    artifact: ModelArtifact,
    key: string,
    signature: ModelSignature,
    placement: Placement,
    role: "serve" | "shadow" = "serve",
  ): DynamicBatcher<RowsInput, RowsOutput> {
    const l = labels(artifact);
    const features = signature.input.features;
    const dtype = signature.input.dtype;
    const outputNames = signature.outputs.map((o) => o.name);
    // Labelled children resolved once: prom-client hashes the label object on every unlabelled call.
    const batchSize = metrics.batchSize.labels(l);
    const queueTime = metrics.sampleObserver("queue", l);
    const computedRows = metrics.computedRows.labels(l);
    return createDynamicBatcher<RowsInput, RowsOutput>({
      ...options.batching,
      concurrency: placement.runner.size,
      events:
        role === "shadow"
          ? {}
          : {
              onBatch: (rows) => batchSize.observe(rows),
              onQueueTime: (s) => queueTime.observe(s),
              onDrop: (reason) => metrics.dropped.inc({ ...l, reason }),
            },
      async execute(inputs) {
        const total = inputs.reduce((n, i) => n + i.rows, 0);
        const only = inputs.length === 1 ? inputs[0] : undefined;
        let data: ArrayBuffer;
        if (only?.ownsBuffer === true && only.data.buffer instanceof ArrayBuffer) data = only.data.buffer;
        else {
          const batch = allocate(dtype, total * features);
          const bytes = new Uint8Array(batch.buffer);
          let at = 0;
          for (const i of inputs) {
            bytes.set(new Uint8Array(i.data.buffer, i.data.byteOffset, i.data.byteLength), at);
            at += i.data.byteLength;
          }
          data = batch.buffer as ArrayBuffer;
        }
        // A request larger than a batch runs alone: on the event loop only while it stays within
        // what the timed batch says fits the bound, else on the worker threads.
        const runner = total <= placement.maxRows ? placement.runner : (placement.beyond ?? pool);
        placement.admit?.(runner);
        const result = await runner.run({
          kind: "run",
          model: { key, path: artifact.path, source: artifact.source },
          inputName: signature.input.name,
          input: { dtype, shape: [total, features], data },
          outputNames,
        });
        computedRows.inc(total);
        const split: Map<string, RawTensor>[] = inputs.map(() => new Map());
        if (inputs.length === 1) {
          // The whole batch is one request's (e.g. a large PredictBatch): its outputs as they came.
          for (const o of result.outputs) split[0]?.set(o.name, o);
          return split;
        }
        for (const o of result.outputs) {
          const rowBytes = o.data.byteLength / total;
          let row = 0;
          inputs.forEach((input, n) => {
            split[n]?.set(o.name, {
              dtype: o.dtype,
              shape: [input.rows, ...o.shape.slice(1)],
              data: o.data.slice(row * rowBytes, (row + input.rows) * rowBytes),
            });
            row += input.rows;
          });
        }
        return split;
      },
    });
  }

  /** A task of `rows` rows of zeros, to warm or time a version. */
  function zeros(key: string, artifact: ModelArtifact, signature: ModelSignature, rows: number): RunTask {
    const { dtype, features, name } = signature.input;
    return {
      kind: "run",
      model: { key, path: artifact.path, source: artifact.source },
      inputName: name,
      input: { dtype, shape: [rows, features], data: new ArrayBuffer(rows * features * elementSize(dtype)) },
      outputNames: signature.outputs.map((o) => o.name),
    };
  }

  async function warm(key: string, artifact: ModelArtifact, signature: ModelSignature): Promise<void> {
    // One warm-up batch per worker, at once: the pool gives each idle worker one, so every worker
    // creates its session (and runs the model once) before the version takes traffic.
    await Promise.all(Array.from({ length: pool.size }, () => pool.run(zeros(key, artifact, signature, 1))));
  }

  async function load(loader: ModelLoader): Promise<LoadedModel> {
    try {
      return await loadVersion(loader);
    } catch (err) {
      metrics.loadFailures.inc({ model: name });
      lastFailure = err instanceof MlpipeError ? err : undefined;
      throw err;
    }
  }

  async function loadVersion(loader: ModelLoader): Promise<LoadedModel> {
    const started = performance.now();
    const artifact = await loader.resolve();
    let signature: ModelSignature;
    let fileBytes: number;
    try {
      fileBytes = (await stat(artifact.path)).size;
      signature = readSignature(await readFile(artifact.path));
    } catch (err) {
      const reason = err instanceof UnsupportedModelError ? err.message : "the file cannot be read";
      throw inferenceErrors.modelLoadFailed(artifact.source, reason, err);
    }
    // Refused before any worker creates a session: a version that does not fit never takes memory.
    const reservation = options.budget?.reserve(artifact.source, fileBytes);
    const key = `${artifact.name}@${artifact.version}#${++loadCounter}`;
    const placement: Placement = { runner: pool, maxRows: Number.POSITIVE_INFINITY, retime: undefined };
    let batchUs: number | undefined;
    try {
      if (options.inline !== undefined) {
        const probe = (rows: number) => zeros(key, artifact, signature, rows);
        const choice = await chooseInline(options.inline, probe, options.batching.maxBatchSize, fileBytes);
        batchUs = choice.batchUs;
        if (choice.inline) {
          placement.runner = options.inline.pool;
          placement.maxRows = choice.maxRows;
        }
      }
      if (placement.runner === pool) await warm(key, artifact, signature);
    } catch (err) {
      pool.unload(key);
      options.inline?.pool.unload(key);
      reservation?.release();
      throw inferenceErrors.modelLoadFailed(artifact.source, "warm-up failed", err);
    }
    placements.set(key, placement);
    if (reservation !== undefined) reservations.set(key, reservation);
    metrics.runsOnEventLoop.set(labels(artifact), placement.runner === pool ? 0 : 1);
    const seconds = (performance.now() - started) / 1000;
    metrics.loadTime.set(labels(artifact), seconds);
    const batcher = makeBatcher(artifact, key, signature, placement);
    const shadowPool = options.shadowPool;
    const model: LoadedModel = {
      artifact,
      key,
      signature,
      loadedAt: Date.now(),
      batcher,
      shadowBatcher:
        shadowPool === undefined
          ? batcher
          : makeBatcher(
              artifact,
              key,
              signature,
              mirrorPlacement(placement, shadowPool, () => reserveShadowSession(artifact, key, fileBytes)),
              "shadow",
            ),
    };
    others = [...others, model];
    logger.info(
      {
        model: artifact.name,
        version: artifact.version,
        source: artifact.source,
        seconds,
        runsOn: placement.runner.runsOn,
        ...(placement.runner === pool ? {} : { maxRowsOnEventLoop: placement.maxRows }),
        ...(batchUs === undefined ? {} : { fullBatchMicros: Math.round(batchUs) }),
      },
      "model loaded",
    );
    if (options.inline !== undefined && placement.runner === pool && batchUs !== undefined) {
      // Timed over the bound, perhaps only because the event loop was busy (a process starting
      // beside others): timed again later, and moved to the event loop if it then fits.
      if (batchUs < retimeBelowFactor * options.inline.maxBatchUs) retime(model, placement, fileBytes, 0);
    }
    return model;
  }

  /**
   * Where the requests mirrored to a version run: on the event loop while the version's own
   * batches do (its full batch is cheap by then), else on the shadow pool rather than on the
   * serving threads, where they would queue before the requests being answered. The shadow pool
   * creates its session with the first mirrored batch: most versions never get one.
   */
  function mirrorPlacement(own: Placement, shadowPool: WorkerPool, reserve: () => void): Placement {
    return {
      get runner() {
        return own.runner === pool ? shadowPool : own.runner;
      },
      get maxRows() {
        return own.maxRows;
      },
      beyond: shadowPool,
      admit: (runner) => {
        if (runner === shadowPool) reserve();
      },
      retime: undefined,
    };
  }

  /**
   * Reserves the memory of the shadow thread's session of a version before its first mirrored
   * batch there; throws INFERENCE_MODEL_TOO_LARGE (the mirror counts as an error, logged once per
   * version) when it does not fit the budget beside the loaded versions.
   */
  function reserveShadowSession(artifact: ModelArtifact, key: string, fileBytes: number): void {
    if (options.budget === undefined || shadowReservations.has(key)) return;
    try {
      shadowReservations.set(key, options.budget.reserve(artifact.source, fileBytes, 1));
    } catch (err) {
      if (!shadowRefused.has(key)) {
        shadowRefused.add(key);
        logger.warn(
          { err, model: artifact.name, version: artifact.version },
          "the shadow thread's session does not fit the memory budget: mirrors to this version fail",
        );
      }
      throw err;
    }
  }

  /** Times a version on the threads again after the attempt's delay (inline-choice.ts's retimeDelaysMs). */
  function retime(model: LoadedModel, placement: Placement, fileBytes: number, attempt: number): void {
    const inline = options.inline;
    const delay = inline?.retimeDelaysMs?.[attempt];
    if (inline === undefined || delay === undefined) return;
    placement.retime = setTimeout(() => {
      placement.retime = undefined;
      if (placements.get(model.key) !== placement) return;
      const probe = (rows: number) => zeros(model.key, model.artifact, model.signature, rows);
      chooseInline(inline, probe, options.batching.maxBatchSize, fileBytes).then(
        (choice) => {
          if (placements.get(model.key) !== placement) {
            inline.pool.unload(model.key);
            return;
          }
          if (!choice.inline) {
            retime(model, placement, fileBytes, attempt + 1);
            return;
          }
          placement.runner = inline.pool;
          placement.maxRows = choice.maxRows;
          metrics.runsOnEventLoop.set(labels(model.artifact), 1);
          // The threads keep their session until the version retires: a batch dispatched to them
          // may still be on its way, and requests over the event loop's share go there.
          logger.info(
            {
              model: model.artifact.name,
              version: model.artifact.version,
              runsOn: inline.pool.runsOn,
              maxRowsOnEventLoop: choice.maxRows,
              fullBatchMicros: Math.round(choice.batchUs ?? 0),
            },
            "model moved to the event loop",
          );
        },
        (err: unknown) =>
          logger.warn({ err, model: model.artifact.name, version: model.artifact.version }, "re-timing failed"),
      );
    }, delay);
    placement.retime.unref();
  }

  async function retire(model: LoadedModel): Promise<void> {
    await Promise.all([model.batcher.drain(), model.shadowBatcher.drain()]);
    const placement = placements.get(model.key);
    if (placement?.retime !== undefined) clearTimeout(placement.retime);
    placements.delete(model.key);
    // Both places: an inline version may have run a large request on the threads, and a version
    // moved to the event loop kept its threads' session.
    pool.unload(model.key);
    options.inline?.pool.unload(model.key);
    options.shadowPool?.unload(model.key);
    reservations.get(model.key)?.release();
    reservations.delete(model.key);
    shadowReservations.get(model.key)?.release();
    shadowReservations.delete(model.key);
    shadowRefused.delete(model.key);
    const l = labels(model.artifact);
    if (served === undefined || labels(served.artifact).version !== l.version) {
      metrics.activeVersion.remove(l);
    }
    // Unless the same version is loaded again beside it (a reload under another key).
    if (![...placements.keys()].some((k) => k.startsWith(`${l.model}@${l.version}#`))) {
      metrics.runsOnEventLoop.remove(l);
    }
    logger.info({ model: l.model, version: l.version }, "model unloaded");
  }

  return {
    name,
    follows: options.follows ?? "",
    get served() {
      return served;
    },
    get lastFailure() {
      return lastFailure;
    },
    queueDepths() {
      return (served === undefined ? others : [served, ...others]).map((m) => ({
        labels: labels(m.artifact),
        rows: m.batcher.queuedRows,
      }));
    },
    loaded() {
      return served === undefined ? others : [served, ...others];
    },
    resolve(spec: string): LoadedModel {
      const s = spec.trim();
      if (s === "" || s.toLowerCase() === "latest") {
        if (served === undefined) {
          throw inferenceErrors.modelTooLarge.is(lastFailure) ? lastFailure : inferenceErrors.modelNotReady();
        }
        return served;
      }
      const lower = s.toLowerCase();
      const found = this.loaded().find(
        (m) =>
          m.artifact.version === s ||
          (m.artifact.stage !== "" && m.artifact.stage.toLowerCase() === lower) ||
          m.artifact.aliases.includes(s),
      );
      if (found === undefined) throw inferenceErrors.modelVersionNotFound(s);
      return found;
    },
    load,
    swap(loader: ModelLoader): Promise<LoadedModel> {
      const next = swaps.then(async () => {
        const loaded = await load(loader);
        // By key, not identity: relabel() may have replaced the object since load() returned it.
        const model = others.find((m) => m.key === loaded.key) ?? loaded;
        const previous =
          served === undefined
            ? others.filter((m) => m.key !== model.key)
            : [served, ...others.filter((m) => m.key !== model.key)];
        // The switch: one synchronous assignment, so every later resolve() sees only the new version.
        served = model;
        others = [];
        lastFailure = undefined;
        for (const p of previous) metrics.activeVersion.set(labels(p.artifact), 0);
        metrics.activeVersion.set(labels(model.artifact), 1);
        logger.info({ model: model.artifact.name, version: model.artifact.version }, "model serving");
        await Promise.all(previous.map(retire));
        return model;
      });
      swaps = next.catch(() => undefined);
      return next;
    },
    relabel(version, labels) {
      const update = (m: LoadedModel): LoadedModel =>
        m.artifact.version === version
          ? { ...m, artifact: { ...m.artifact, stage: labels.stage, aliases: [...labels.aliases] } }
          : m;
      if (served !== undefined) served = update(served);
      others = others.map(update);
    },
    async close(): Promise<void> {
      const all = this.loaded();
      served = undefined;
      others = [];
      await Promise.all(all.map(retire));
    },
  };
}
