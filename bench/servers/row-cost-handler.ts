/**
 * A MODEL_HANDLER for the overload scenarios: every row of a batch costs BENCH_ROW_COST_US
 * microseconds of its worker's time, spent blocked (Atomics.wait), not computing. It stands in for
 * a model whose compute dominates (a large network, or one run on an accelerator): with the
 * 4-feature test model alone, the server on 2 shared cores outruns the load generator, so an
 * "overload" would measure the generator. Blocking instead of spinning leaves the cores to the
 * generator and the server's main thread, so the server's capacity is set by this cost:
 * workers / row cost (2 workers at 1000 µs: 2,000 rows/s).
 */
import type { HandlerTensor, Preprocess } from "../../server/workers/model-handler.js";

const rowCostMs = Number(process.env.BENCH_ROW_COST_US ?? "1000") / 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** See the module comment. */
export const preprocess: Preprocess = (input: HandlerTensor) => {
  const until = performance.now() + rowCostMs * (input.shape[0] ?? 0);
  for (let left = until - performance.now(); left > 0; left = until - performance.now()) {
    Atomics.wait(pause, 0, 0, left);
  }
  return input;
};
