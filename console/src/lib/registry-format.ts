/**
 * How the console writes the registry's enums (apart from format.ts, so the runs table's chunk
 * does not carry the registry's generated code).
 */
import { ModelVersionStatus, Stage } from "../../../gen/mlpipe/registry/v1/registry_pb.js";

/** "None", "Staging", "Production", "Archived" (MLflow's names). */
export function stageName(stage: Stage): string {
  switch (stage) {
    case Stage.NONE:
      return "None";
    case Stage.STAGING:
      return "Staging";
    case Stage.PRODUCTION:
      return "Production";
    case Stage.ARCHIVED:
      return "Archived";
    default:
      return "—";
  }
}

/** The stages a version can be moved to, in order. */
export const stages: readonly Stage[] = [Stage.NONE, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED];

/** "READY", "FAILED_REGISTRATION", "PENDING_REGISTRATION". */
export function versionStatusName(status: ModelVersionStatus): string {
  const name = ModelVersionStatus[status];
  return name === undefined || status === ModelVersionStatus.UNSPECIFIED ? "—" : name;
}
