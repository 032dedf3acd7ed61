import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import { registryErrors } from "../core/errors/registry-errors.js";
import {
  type ModelVersion,
  ModelVersionStatus,
  type RegistryService,
  Stage,
} from "../gen/mlpipe/registry/v1/registry_pb.js";

/** A deployment stage by its MLflow name. */
export type StageName = "None" | "Staging" | "Production" | "Archived";

const stages: Readonly<Record<StageName, Stage>> = {
  None: Stage.NONE,
  Staging: Stage.STAGING,
  Production: Stage.PRODUCTION,
  Archived: Stage.ARCHIVED,
};

/** True when `name` is a {@link StageName} (exact spelling). */
export function isStageName(name: string): name is StageName {
  return Object.hasOwn(stages, name);
}

/** Options of {@link registerModelVersion}. */
export interface RegisterModelOptions {
  /** Description of the new version. */
  readonly description?: string;
  /** Tags of the new version. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Registers a new version of the model `name` from `source` (`runs:/<run_id>/<path>`, or an
 * artifact-store URI under the server's root), creating the registered model first when it does
 * not exist. Resolves with the READY version; when the server could not register the artifact (it
 * is missing or not a valid ONNX model), the version it created is FAILED_REGISTRATION and this
 * rejects with REGISTRY_VERSION_NOT_READY naming the server's reason.
 */
export async function registerModelVersion(
  registry: Client<typeof RegistryService>,
  name: string,
  source: string,
  options: RegisterModelOptions = {},
): Promise<ModelVersion> {
  try {
    await registry.createRegisteredModel({ name });
  } catch (err) {
    // Registering into an existing model is the usual case, not an error.
    if (ConnectError.from(err).code !== Code.AlreadyExists) throw err;
  }
  const response = await registry.createModelVersion({
    name,
    source,
    description: options.description ?? "",
    tags: { ...options.tags },
  });
  const version = requireVersion(response.modelVersion, "CreateModelVersion");
  if (version.status !== ModelVersionStatus.READY) {
    const status = ModelVersionStatus[version.status] ?? String(version.status);
    throw registryErrors.versionNotReady(name, version.version, `${status} (${version.statusMessage})`);
  }
  return version;
}

/** Options of {@link transitionStage}. */
export interface SetStageOptions {
  /** Move the other versions in the target stage (Staging or Production) to Archived. Default false. */
  readonly archiveExistingVersions?: boolean;
}

/** Moves a READY version of a model to a stage; resolves with the updated version. */
export async function transitionStage(
  registry: Client<typeof RegistryService>,
  name: string,
  version: number | bigint,
  stage: StageName,
  options: SetStageOptions = {},
): Promise<ModelVersion> {
  const response = await registry.transitionModelVersionStage({
    name,
    version: toVersion(version),
    stage: stages[stage],
    archiveExistingVersions: options.archiveExistingVersions ?? false,
  });
  return requireVersion(response.modelVersion, "TransitionModelVersionStage");
}

/** Points an alias of a model (e.g. "champion") at a READY version, moving it if it pointed elsewhere. */
export async function pointAlias(
  registry: Client<typeof RegistryService>,
  name: string,
  alias: string,
  version: number | bigint,
): Promise<void> {
  await registry.setRegisteredModelAlias({ name, alias, version: toVersion(version) });
}

function toVersion(version: number | bigint): bigint {
  if (typeof version === "number" && !Number.isSafeInteger(version)) {
    throw commonErrors.invalidArgument("version", `must be an integer, got ${version}`);
  }
  return BigInt(version);
}

function requireVersion(version: ModelVersion | undefined, rpc: string): ModelVersion {
  if (version === undefined) throw commonErrors.internal(new Error(`the server answered ${rpc} without a version`));
  return version;
}
