/**
 * The demo model of `mlpipe start`: on a registry that does not know the served model yet, the
 * iris classifier is trained in-process, logged as a run, registered as version 1 and moved to the
 * stage (or alias) the inference server serves, so a fresh clone answers predictions at once.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { isStageName, type MlpipeClient, type StageName } from "../sdk/index.js";
import { irisModelName, trainIris } from "../training/train-iris.js";

/** Options of {@link ensureDemoModel}. */
export interface DemoModelOptions {
  /** A client of the (local) registry. */
  readonly client: MlpipeClient;
  /** The model the inference server serves (MODEL_NAME); only {@link irisModelName} is trained. */
  readonly modelName: string;
  /** What the inference server serves (MODEL_STAGE): a stage name in any case, or an alias. */
  readonly modelStage: string;
}

/** What {@link ensureDemoModel} found or did. */
export type DemoModelOutcome =
  /** The model was missing: the demo was trained and registered; `version` serves. */
  | { readonly kind: "trained"; readonly version: bigint; readonly runId: string; readonly accuracy: number }
  /** The model exists and `version` is at the served stage or alias. */
  | { readonly kind: "existing"; readonly version: bigint }
  /** The model exists but nothing is at the served stage or alias yet, or it is not the demo model and missing. */
  | { readonly kind: "nothing-to-serve" };

/**
 * Makes sure something is there to serve: trains, registers and promotes the iris demo when the
 * registry has no model named `modelName` (and that name is the demo's), else reports the version
 * the stage or alias points at. Never retrains a model that exists, whatever its versions.
 */
export async function ensureDemoModel(options: DemoModelOptions): Promise<DemoModelOutcome> {
  const { client, modelName, modelStage } = options;
  const exists = await client.registry.getRegisteredModel({ name: modelName }).then(
    () => true,
    (err: unknown) => {
      if (ConnectError.from(err).code === Code.NotFound) return false;
      throw err;
    },
  );
  if (exists) {
    const version = await servedVersion(client, modelName, modelStage);
    return version === undefined ? { kind: "nothing-to-serve" } : { kind: "existing", version };
  }
  if (modelName !== irisModelName) return { kind: "nothing-to-serve" };

  const stage = canonicalStage(modelStage);
  const result = await trainIris({
    client,
    experiment: "iris",
    runName: "iris-demo",
    register: true,
    stage: stage ?? "Production",
  });
  const version = result.modelVersion?.version;
  if (version === undefined) throw new Error("trainIris registered no version");
  // MODEL_STAGE names an alias: point it at the new version too.
  if (stage === undefined) await client.setAlias(modelName, modelStage, version);
  return { kind: "trained", version, runId: result.runId, accuracy: result.accuracy };
}

/** The version `spec` (a stage name in any case, or an alias) points at; undefined when none. */
async function servedVersion(client: MlpipeClient, name: string, spec: string): Promise<bigint | undefined> {
  const stage = canonicalStage(spec);
  try {
    if (stage === undefined) {
      const found = await client.registry.getModelVersionByAlias({ name, alias: spec });
      return found.modelVersion?.version;
    }
    const latest = await client.registry.getLatestVersions({ name, stages: [stageEnum[stage]] });
    return latest.modelVersions[0]?.version;
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}

const stageEnum: Readonly<Record<StageName, Stage>> = {
  None: Stage.NONE,
  Staging: Stage.STAGING,
  Production: Stage.PRODUCTION,
  Archived: Stage.ARCHIVED,
};

/** The stage `text` names (case-insensitive, as MODEL_STAGE), or undefined when it is an alias. */
function canonicalStage(text: string): StageName | undefined {
  const lower = text.toLowerCase();
  const name = `${lower.charAt(0).toUpperCase()}${lower.slice(1)}`;
  return isStageName(name) ? name : undefined;
}
