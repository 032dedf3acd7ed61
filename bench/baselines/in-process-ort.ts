/**
 * Baseline "in-process ceiling": onnxruntime-node called directly in this process, one session
 * with one intra-op thread, running the same model on batches of the same size back to back. No
 * network, no queue, no copies between threads: the rows/s nothing built around the runtime can
 * beat on one core.
 */
import { ort } from "../../core/onnx/onnxruntime.js";
import { float32Batch } from "../lib/iris-corpus.js";
import { type LoadTiming, sleep } from "../lib/load-generator.js";

/** Rows per second of `session.run` on batches of `rowsPerRun` rows (warm-up excluded). */
export async function inProcessRowsPerSecond(
  modelPath: string,
  rows: readonly (readonly number[])[],
  rowsPerRun: number,
  timing: LoadTiming,
): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const input = new ort.Tensor("float32", float32Batch(rows, rowsPerRun), [rowsPerRun, 4]);
    let runs = 0;
    let measuring = false;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        await session.run({ features: input });
        if (measuring) runs++;
      }
    })();
    await sleep(timing.warmupSeconds * 1000);
    measuring = true;
    const t0 = performance.now();
    await sleep(timing.durationSeconds * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const measured = runs;
    stop = true;
    await loop;
    return (measured * rowsPerRun) / seconds;
  } finally {
    await session.release();
  }
}
