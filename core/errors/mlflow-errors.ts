import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors of the MLflow REST surface (gateway/mlflow) that no service raises. */
export const mlflowErrors = {
  artifactPathUnknown: defineError(
    "MLFLOW_ARTIFACT_PATH_UNKNOWN",
    Code.NotFound,
    "An mlflow-artifacts path names neither a run's artifacts nor a model version's registered copy.",
    (path: string) =>
      `no run artifacts or registered model version at "${path}" (paths are <...>/<run_id>/artifacts/<file> or registered-models/<name>/versions/<version>/model.onnx)`,
    () => ({ field: "path" }),
  ),
};
