import type { DescEnum } from "@bufbuild/protobuf";
import { Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { commonErrors } from "../errors/common-errors.js";

/** An enum value the contract defines (proto3 enums are open: the wire may carry any number). */
export function validateEnum<T extends number>(value: T, desc: DescEnum, field: string): T {
  if (desc.values.some((v) => v.number === value)) return value;
  throw commonErrors.invalidArgument(field, `${value} is not a value of ${desc.typeName}`);
}

/** A stage given in a request: one of the four, not unspecified nor an unknown number. */
export function validateStage(stage: Stage, field = "stage"): Stage {
  if (stage === Stage.NONE || stage === Stage.STAGING || stage === Stage.PRODUCTION || stage === Stage.ARCHIVED) {
    return stage;
  }
  throw commonErrors.invalidArgument(field, "must be one of NONE, STAGING, PRODUCTION, ARCHIVED");
}
