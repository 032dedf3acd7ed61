import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors of the model registry (registered models, versions, stages, aliases). */
export const registryErrors = {
  modelNotFound: defineError(
    "REGISTRY_MODEL_NOT_FOUND",
    Code.NotFound,
    "No registered model has this name.",
    (name: string) => `registered model "${name}" does not exist`,
    () => ({ field: "name" }),
  ),
  modelAlreadyExists: defineError(
    "REGISTRY_MODEL_ALREADY_EXISTS",
    Code.AlreadyExists,
    "A registered model already has this name.",
    (name: string, _field: string) => `a registered model named "${name}" already exists`,
    (_name: string, field: string) => ({ field }),
  ),
  versionNotFound: defineError(
    "REGISTRY_VERSION_NOT_FOUND",
    Code.NotFound,
    "The registered model has no version with this number.",
    (name: string, version: bigint) => `registered model "${name}" has no version ${version}`,
    () => ({ field: "version" }),
  ),
  aliasNotFound: defineError(
    "REGISTRY_ALIAS_NOT_FOUND",
    Code.NotFound,
    "The registered model has no alias with this name.",
    (name: string, alias: string) => `registered model "${name}" has no alias "${alias}"`,
    () => ({ field: "alias" }),
  ),
  tagNotFound: defineError(
    "REGISTRY_TAG_NOT_FOUND",
    Code.NotFound,
    "No tag with this key is set on the registered model or version.",
    (key: string) => `tag "${key}" is not set`,
    () => ({ field: "key" }),
  ),
  versionNotReady: defineError(
    "REGISTRY_VERSION_NOT_READY",
    Code.FailedPrecondition,
    "The version's registration failed, so it cannot be staged, aliased or downloaded.",
    (name: string, version: bigint, status: string) =>
      `version ${version} of "${name}" is ${status}, not READY; register a valid artifact as a new version`,
    () => ({ field: "version" }),
  ),
  routeAliasMissing: defineError(
    "REGISTRY_ROUTE_ALIAS_MISSING",
    Code.FailedPrecondition,
    "A traffic split or shadow routes name an alias the registered model does not have; set the alias first.",
    (name: string, tag: string, alias: string, _field: string) =>
      `${tag} names alias "${alias}", which registered model "${name}" does not have; set the alias first`,
    (_name: string, _tag: string, _alias: string, field: string) => ({ field }),
  ),
  aliasInUse: defineError(
    "REGISTRY_ALIAS_IN_USE",
    Code.FailedPrecondition,
    "The alias (or the version behind it) is still named by the model's traffic split or shadow routes; change them first.",
    (name: string, alias: string, tag: string, _field: string) =>
      `alias "${alias}" of registered model "${name}" is still named by its ${tag}; change or clear it first`,
    (_name: string, _alias: string, _tag: string, field: string) => ({ field }),
  ),
};
