/**
 * The top-level namespaces of keys in the artifact store, which tracking and the registry share:
 * `<experiment id>/...` holds an experiment's runs by default (`<root>/<id>/<run id>/artifacts`),
 * and `model-registry/...` the registry's immutable copies of registered model versions. An
 * experiment given a location of its own must stay out of both, or purging it could delete what
 * belongs to another experiment or to the registry (issue 13, defect 1).
 */

/** First key segment of the registry's model copies (`model-registry/<uuid>/model.onnx`). */
export const registryKeyNamespace = "model-registry";

/**
 * Why a custom experiment location at `key` (a blob key prefix below the root, without a trailing
 * `/`) would trespass on a reserved namespace, or undefined when it does not.
 */
export function reservedNamespaceProblem(key: string): string | undefined {
  const first = key.split("/", 1)[0] ?? "";
  if (first === registryKeyNamespace) return `"${registryKeyNamespace}/" holds the model registry's copies`;
  if (/^\d+$/.test(first)) return `"${first}/" is reserved for the default location of experiment ${first}`;
  return undefined;
}
