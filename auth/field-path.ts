/**
 * Reading the fields a method policy names (`experiment_id`, `header.run_id`,
 * `experiments.experiment_id`) out of request and response messages, through protobuf-es
 * reflection, so the policy interpreter works on any message without knowing its type. Paths are
 * checked against the descriptors once, when a service is guarded: a policy naming a field that
 * does not exist, or one of the wrong type, fails the server's start rather than a call.
 */
import { type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { isReflectList, isReflectMessage, type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";

/** A policy path that does not fit the message it is read from: a bug in a .proto file. */
export class PolicyPathError extends Error {
  override readonly name = "PolicyPathError";
}

/** The string values at a path of a message: one for a string field, every element of a repeated one. */
export interface StringPath {
  readonly path: string;
  /** The values at the path; empty when a message on the way, or the field, is unset. */
  read(message: Message): string[];
}

/** Finds the fields of `path` in `desc`: every one but the last a singular message field. */
function resolve(desc: DescMessage, path: string): { parents: DescField[]; last: DescField } {
  const parts = path.split(".");
  const parents: DescField[] = [];
  let current = desc;
  for (const [i, name] of parts.entries()) {
    const field = current.fields.find((f) => f.name === name);
    if (field === undefined) throw new PolicyPathError(`${desc.typeName} has no field "${path}" ("${name}")`);
    if (i === parts.length - 1) return { parents, last: field };
    if (field.fieldKind !== "message") {
      throw new PolicyPathError(`"${name}" in "${path}" of ${desc.typeName} is not a message field`);
    }
    parents.push(field);
    current = field.message;
  }
  throw new PolicyPathError(`empty policy path on ${desc.typeName}`);
}

/** The message at the end of `parents`, or undefined when one on the way is unset. */
function walk(message: ReflectMessage, parents: readonly DescField[]): ReflectMessage | undefined {
  let current = message;
  for (const field of parents) {
    if (!current.isSet(field)) return undefined;
    const next = current.get(field);
    if (!isReflectMessage(next)) return undefined;
    current = next;
  }
  return current;
}

function isString(field: DescField): boolean {
  return (
    (field.fieldKind === "scalar" && field.scalar === ScalarType.STRING) ||
    (field.fieldKind === "list" && field.listKind === "scalar" && field.scalar === ScalarType.STRING)
  );
}

/** Compiles a path to a string or repeated string field of `desc`. */
export function compileStringPath(desc: DescMessage, path: string): StringPath {
  const { parents, last } = resolve(desc, path);
  if (!isString(last)) throw new PolicyPathError(`"${path}" of ${desc.typeName} is not a string field`);
  return {
    path,
    read(message) {
      const at = walk(reflect(desc, message), parents);
      if (at === undefined) return [];
      const value = at.get(last);
      if (isReflectList(value)) return [...value].filter((v): v is string => typeof v === "string");
      return typeof value === "string" ? [value] : [];
    },
  };
}

/** An enum field's number at a path, and the number of one of its values. */
export interface EnumPath {
  readonly path: string;
  read(message: Message): number | undefined;
  /** The number of the enum value named `name` (e.g. "STAGE_PRODUCTION"). */
  valueNumber(name: string): number;
}

/** Compiles a path to a singular enum field of type `enumTypeName`. */
export function compileEnumPath(desc: DescMessage, path: string, enumTypeName: string): EnumPath {
  const { parents, last } = resolve(desc, path);
  if (last.fieldKind !== "enum" || last.enum.typeName !== enumTypeName) {
    throw new PolicyPathError(`"${path}" of ${desc.typeName} is not a ${enumTypeName} field`);
  }
  const values = last.enum.values;
  return {
    path,
    read(message) {
      const value = walk(reflect(desc, message), parents)?.get(last);
      return typeof value === "number" ? value : undefined;
    },
    valueNumber(name) {
      const value = values.find((v) => v.name === name);
      if (value === undefined) throw new PolicyPathError(`${enumTypeName} has no value ${name}`);
      return value.number;
    },
  };
}

/** A repeated message field whose elements each name a resource (a search's results). */
export interface ListFilter {
  readonly path: string;
  /** The resource id of each element, in order. */
  ids(message: Message): string[];
  /** Keeps the elements whose id passes `keep`, in order, in place. */
  retain(message: Message, keep: (id: string) => boolean): void;
}

/** Compiles `list.item_field`: a top-level repeated message field and a string field of its elements. */
export function compileListFilter(desc: DescMessage, path: string): ListFilter {
  const dot = path.indexOf(".");
  const listName = dot < 0 ? path : path.slice(0, dot);
  const list = desc.fields.find((f) => f.name === listName);
  if (list === undefined || list.fieldKind !== "list" || list.listKind !== "message" || dot < 0) {
    throw new PolicyPathError(`"${path}" of ${desc.typeName} is not <repeated message field>.<field>`);
  }
  const item = compileStringPath(list.message, path.slice(dot + 1));
  const elements = (message: Message): ReflectMessage[] => {
    const value = reflect(desc, message).get(list);
    return isReflectList(value) ? [...value].filter((v): v is ReflectMessage => isReflectMessage(v)) : [];
  };
  const idOf = (element: ReflectMessage): string => item.read(element.message)[0] ?? "";
  return {
    path,
    ids: (message) => elements(message).map(idOf),
    retain(message, keep) {
      const value = reflect(desc, message).get(list);
      if (!isReflectList(value)) return;
      const kept = elements(message).filter((e) => keep(idOf(e)));
      value.clear();
      for (const e of kept) value.add(e);
    },
  };
}
