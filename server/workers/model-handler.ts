/**
 * The contract of a custom pre/post-processing module (MODEL_HANDLER): an ES module, loaded in
 * every inference worker, exporting `preprocess` and/or `postprocess`. Both see the whole batch;
 * they must keep the number of rows. Anything they throw fails the batch with
 * INFERENCE_HANDLER_FAILED (or with their own error if it is an MlpipeError's ErrorData shape).
 */
import type { NumericArray } from "../models/tensor-types.js";

/** A tensor as handlers see it: a typed array and its shape [rows, ...]. */
export interface HandlerTensor {
  readonly data: NumericArray;
  readonly shape: readonly number[];
}

/** Transforms the batched input [rows, features] before the model runs. */
export type Preprocess = (input: HandlerTensor) => HandlerTensor | Promise<HandlerTensor>;

/** Transforms the model's outputs (by output name) before predictions are read from them. */
export type Postprocess = (
  outputs: Readonly<Record<string, HandlerTensor>>,
) => Readonly<Record<string, HandlerTensor>> | Promise<Readonly<Record<string, HandlerTensor>>>;

/** What a handler module may export. */
export interface ModelHandler {
  readonly preprocess?: Preprocess;
  readonly postprocess?: Postprocess;
}
