/**
 * The `(mlpipe.auth.v1.policy)` option of each RPC, read from the generated descriptors and
 * compiled once per service: the field paths it names are resolved against the request and
 * response messages (field-path.ts), so a policy that does not fit its method fails at start.
 */
import { type DescMethod, type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import {
  Access,
  type MethodPolicy,
  policy as policyExtension,
  ResourceKind,
  type ResourceRef,
} from "../gen/mlpipe/auth/v1/policy_pb.js";
import {
  compileEnumPath,
  compileListFilter,
  compileStringPath,
  type EnumPath,
  type ListFilter,
  PolicyPathError,
  type StringPath,
} from "./field-path.js";
import type { PermissionLevel } from "./permission.js";

/** A resource reference with its field compiled: `path` undefined when it names the kind as a whole. */
export interface CompiledRef {
  readonly kind: ResourceKind;
  readonly path: StringPath | undefined;
  /** The id an empty field stands for; "" when none. */
  readonly defaultId: string;
}

/** A method's policy, ready to check calls against. */
export interface CompiledPolicy {
  /** `/package.Service/Method`, for messages. */
  readonly procedure: string;
  readonly access: Access;
  /** The permission `access` stands for; undefined for PUBLIC, AUTHENTICATED and ADMIN. */
  readonly needed: PermissionLevel | undefined;
  readonly resource: CompiledRef | undefined;
  readonly reads: readonly CompiledRef[];
  /** The Stage field and the number of STAGE_PRODUCTION. */
  readonly stage: { readonly path: EnumPath; readonly production: number } | undefined;
  readonly responseResource: CompiledRef | undefined;
  readonly responseFilter: { readonly kind: ResourceKind; readonly filter: ListFilter } | undefined;
  readonly creates: CompiledRef | undefined;
  readonly rename: StringPath | undefined;
  readonly deletes: boolean;
}

const neededOf: Partial<Record<Access, PermissionLevel>> = {
  [Access.READ]: "read",
  [Access.EDIT]: "edit",
  [Access.MANAGE]: "manage",
};

/** The raw policy option of a method; undefined when the method has none (a contract bug). */
export function methodPolicy(method: DescMethod): MethodPolicy | undefined {
  return hasOption(method, policyExtension) ? getOption(method, policyExtension) : undefined;
}

function compileRef(ref: ResourceRef | undefined, desc: DescMethod["input"]): CompiledRef | undefined {
  if (ref === undefined || ref.kind === ResourceKind.UNSPECIFIED) return undefined;
  return {
    kind: ref.kind,
    path: ref.field === "" ? undefined : compileStringPath(desc, ref.field),
    defaultId: ref.defaultId,
  };
}

/** Compiles a method's policy; PolicyPathError when it is missing or does not fit the method. */
export function compilePolicy(method: DescMethod): CompiledPolicy {
  const procedure = `/${method.parent.typeName}/${method.name}`;
  const raw = methodPolicy(method);
  if (raw === undefined || raw.access === Access.UNSPECIFIED) {
    throw new PolicyPathError(`${procedure} has no (mlpipe.auth.v1.policy) access`);
  }
  const needed = neededOf[raw.access];
  const resource = compileRef(raw.resource, method.input);
  const responseResource = compileRef(raw.responseResource, method.output);
  if (needed !== undefined && resource === undefined && responseResource === undefined) {
    throw new PolicyPathError(`${procedure} needs ${needed} but names no resource`);
  }
  const filter = raw.responseFilter;
  const stagePath =
    raw.stageField === "" ? undefined : compileEnumPath(method.input, raw.stageField, "mlpipe.registry.v1.Stage");
  return {
    procedure,
    access: raw.access,
    needed,
    resource,
    reads: raw.reads.flatMap((r) => compileRef(r, method.input) ?? []),
    stage:
      stagePath === undefined ? undefined : { path: stagePath, production: stagePath.valueNumber("STAGE_PRODUCTION") },
    responseResource,
    responseFilter:
      filter === undefined || filter.kind === ResourceKind.UNSPECIFIED
        ? undefined
        : { kind: filter.kind, filter: compileListFilter(method.output, filter.field) },
    creates: compileRef(raw.creates, method.output),
    rename: raw.renameField === "" ? undefined : compileStringPath(method.input, raw.renameField),
    deletes: raw.deletes,
  };
}

/** Compiles every method's policy of a service, by method local name. */
export function compileServicePolicies(service: DescService): ReadonlyMap<string, CompiledPolicy> {
  return new Map(service.methods.map((m) => [m.localName, compilePolicy(m)]));
}
