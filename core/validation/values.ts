import { validateText } from "./text.js";

/** Longest param value, in characters (MLflow's limit). */
const maxParamValueLength = 6000;
/** Longest tag value of a run or experiment, in characters (MLflow's limit). */
const maxTagValueLength = 8000;
/** Longest tag value of a registered model or version, in characters. */
const maxModelTagValueLength = 5000;
/** Longest description of a registered model or version, in characters. */
const maxDescriptionLength = 5000;

/** Param values: at most 6000 characters, no NUL. */
export function validateParamValue(value: string, field: string): string {
  return validateText(value, field, 0, maxParamValueLength);
}

/** Tag values of runs and experiments: at most 8000 characters, no NUL. */
export function validateTagValue(value: string, field: string): string {
  return validateText(value, field, 0, maxTagValueLength);
}

/** Tag values of registered models and versions: at most 5000 characters, no NUL. */
export function validateModelTagValue(value: string, field = "value"): string {
  return validateText(value, field, 0, maxModelTagValueLength);
}

/** Descriptions of registered models and versions: at most 5000 characters, no NUL. */
export function validateDescription(description: string, field = "description"): string {
  return validateText(description, field, 0, maxDescriptionLength);
}
