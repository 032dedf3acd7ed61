/**
 * The memory the loaded model versions of one inference process may take (MODEL_MEMORY_LIMIT_MB),
 * so that a model that does not fit is refused with INFERENCE_MODEL_TOO_LARGE before any worker
 * creates its session, instead of the process being killed for running out of memory.
 *
 * A version's memory is estimated before it is loaded, from its file: every worker thread holds
 * its own onnxruntime session, and a session takes its weights, the optimized graph (prepacked
 * weight copies) and the arena of its first runs. Measured with onnxruntime-node 1.30 on linear
 * models of 11, 46 and 92 MB (a session created and run once, RSS before and after), one session
 * added 1.3 to 6.4 times the file size, and the runtime itself about 26 MB once per process. The
 * estimate, `workers x (6 x file size + 16 MiB)`, is above every one of those samples. It is an
 * estimate, not an accounting: it does not see the memory requests take (their tensors, batches)
 * nor the rest of the process, which is why the default limit is half of what the process may use.
 *
 * One budget per process, shared by the model managers of every model it serves (passed to them,
 * not global): with several processes per host, each has its own budget and the limit applies to
 * each.
 */
import { inferenceErrors } from "../../core/errors/index.js";

/** What each worker's session is estimated to take per byte of the model file. */
export const sessionBytesPerFileByte = 6;

/** What each worker's session is estimated to take besides, bytes (16 MiB). */
export const sessionOverheadBytes = 16 * 1024 * 1024;

/** A reservation of part of the budget for one loaded version; released when it is unloaded. */
export interface MemoryReservation {
  /** Bytes reserved. */
  readonly bytes: number;
  /** Gives the bytes back (idempotent). */
  release(): void;
}

/** The model memory budget of a process. */
export interface MemoryBudget {
  /** The limit in bytes; Infinity when there is none. */
  readonly limitBytes: number;
  /** Bytes reserved by the loaded versions. */
  readonly usedBytes: number;
  /**
   * The estimated memory of a version whose file has `fileBytes` bytes, over `sessions` sessions
   * (default: one per worker).
   */
  estimate(fileBytes: number, sessions?: number): number;
  /**
   * Reserves the estimate for a version (`source` names it in the error) over `sessions` sessions
   * (default: one per worker; the shadow thread reserves its one session on its own); throws
   * INFERENCE_MODEL_TOO_LARGE when it does not fit beside what is reserved.
   */
  reserve(source: string, fileBytes: number, sessions?: number): MemoryReservation;
}

/** Options of {@link createMemoryBudget}. */
export interface MemoryBudgetOptions {
  /** Bytes the loaded versions may take together; undefined for no limit. */
  readonly limitBytes: number | undefined;
  /** Worker threads, each holding a session of every loaded version. */
  readonly workers: number;
}

const mb = (bytes: number): number => Math.ceil(bytes / (1024 * 1024));

/** Creates a budget with nothing reserved. */
export function createMemoryBudget(options: MemoryBudgetOptions): MemoryBudget {
  const limitBytes = options.limitBytes ?? Number.POSITIVE_INFINITY;
  let usedBytes = 0;
  const estimate = (fileBytes: number, sessions = options.workers): number =>
    sessions * (sessionBytesPerFileByte * fileBytes + sessionOverheadBytes);
  return {
    limitBytes,
    get usedBytes() {
      return usedBytes;
    },
    estimate,
    reserve(source, fileBytes, sessions) {
      const bytes = estimate(fileBytes, sessions);
      if (usedBytes + bytes > limitBytes) {
        throw inferenceErrors.modelTooLarge(source, mb(bytes), Math.max(0, mb(limitBytes - usedBytes)), mb(limitBytes));
      }
      usedBytes += bytes;
      let held = true;
      return {
        bytes,
        release() {
          if (!held) return;
          held = false;
          usedBytes -= bytes;
        },
      };
    },
  };
}
