import type { SortColumnType } from "./page-token.js";

/**
 * What a search can filter and order on, and what it returns: the rows searched (a FROM clause),
 * the key/value tables reached through prefixes (`metrics.<key>`, `tags.<key>`), the attributes,
 * and the unique order that ends every sort. One spec per searchable entity (runs, experiments,
 * registered models, model versions), kept in its domain; the parser checks names and types
 * against it and the SQL compiler takes table and column names only from it, never from the
 * caller.
 */
export interface SearchSpec {
  /** What is searched, for messages and the page-token hash: "runs", "registered models". */
  readonly what: string;
  /**
   * The FROM clause of the searched rows with their aliases, e.g. `runs r`, or
   * `model_versions v JOIN registered_models m ON m.model_id = v.model_id` (one row per item).
   */
  readonly from: string;
  /**
   * The columns a search returns for each row found, by output name (not `k<digits>`, the
   * names of the sort columns): `{ id: "r.run_id" }`.
   */
  readonly select: Readonly<Record<string, string>>;
  /**
   * Columns that order the rows totally (unique together), appended to every order as
   * tie-breakers unless the order already has them: `[{ expr: "r.run_id", type: "text" }]`.
   */
  readonly uniqueOrder: readonly UniqueOrderColumn[];
  /** The `'active' | 'deleted'` column that view types select on; undefined when rows have none. */
  readonly lifecycleColumn?: string;
  /** Key/value tables by entity name ("metric", "param", "tag"). */
  readonly keyed: Readonly<Record<string, KeyedEntitySpec>>;
  /** Attributes by canonical name ("start_time"). */
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  /** Prefixes, lower-case, that name an attribute explicitly (`attributes.run_name`); may be empty. */
  readonly attributePrefixes: readonly string[];
  /** Most order_by clauses accepted (the unique order is added after them). */
  readonly maxOrderByClauses: number;
  /** The catalogued error of a malformed filter, naming the 1-based position. */
  readonly invalidFilter: (position: number, reason: string) => Error;
  /** The catalogued error of a malformed order_by clause. */
  readonly invalidOrderBy: (clause: string, reason: string) => Error;
}

/** One column of a spec's unique order. */
export interface UniqueOrderColumn {
  /** SQL expression over the aliases of {@link SearchSpec.from}; NOT NULL. */
  readonly expr: string;
  readonly type: SortColumnType;
  readonly descending?: boolean;
}

/**
 * Value types of the search language. `float`: any number (metric values; NaN stored values match
 * no comparison). `integer`: whole numbers (times in ms, ids, versions). `string`: quoted strings.
 */
export type FieldType = "float" | "integer" | "string";

/** A table of (owner, key, value) rows reached through a prefix, e.g. `params`. */
export interface KeyedEntitySpec {
  /** Prefixes naming it, lower-case: ["metric", "metrics"]. The last is used in messages (plural). */
  readonly prefixes: readonly string[];
  readonly table: string;
  /**
   * How a row of the table belongs to a searched row: its columns by the expression of the
   * searched row they equal, e.g. `{ run_id: "r.run_id" }`, or for version tags
   * `{ model_id: "v.model_id", version: "v.version" }`.
   */
  readonly owner: Readonly<Record<string, string>>;
  readonly type: FieldType;
}

/** A column of the searched rows. */
export interface AttributeSpec {
  /** SQL expression over the aliases of {@link SearchSpec.from}, e.g. `r.start_time`. */
  readonly expr: string;
  readonly type: FieldType;
  /** SQL type of the column, to cast page-token values back. */
  readonly sqlType: "text" | "bigint";
  /** True when the column may be NULL (sorted last, like a missing metric). */
  readonly nullable: boolean;
  /** Other accepted spellings, lower-case (e.g. "run name", "created"). */
  readonly aliases: readonly string[];
  /**
   * When set, the only values `=`, `!=`, `IN` and `NOT IN` accept, in their stored spelling;
   * matched case-insensitively and rewritten to that spelling (`status = 'finished'` means
   * FINISHED, `current_stage = 'production'` means Production).
   */
  readonly allowedValues?: readonly string[];
}

/**
 * The common attribute: a NOT NULL column with no other spelling, a string (`text`) or a whole
 * number (`bigint`: times in ms, ids, versions).
 */
export function plainAttribute(expr: string, type: "string" | "integer"): AttributeSpec {
  return { expr, type, sqlType: type === "string" ? "text" : "bigint", nullable: false, aliases: [] };
}

/** A name resolved against a spec: what the AST and the SQL compiler work with. */
export type ResolvedField =
  | {
      readonly kind: "keyed";
      readonly entity: string;
      readonly key: string;
      readonly type: FieldType;
      /** How the caller should see it in messages, e.g. "metrics.`val loss`". */
      readonly display: string;
    }
  | {
      readonly kind: "attribute";
      readonly name: string;
      readonly type: FieldType;
      readonly display: string;
    };

/**
 * Resolves `prefix.key` (or a bare name when prefix is undefined) against the spec. Returns the
 * field, or a reason that names the valid choices.
 */
export function resolveField(spec: SearchSpec, prefix: string | undefined, key: string): ResolvedField | string {
  if (prefix !== undefined) {
    const p = prefix.toLowerCase();
    for (const [entity, keyed] of Object.entries(spec.keyed)) {
      if (keyed.prefixes.includes(p)) {
        const shown = /^[\p{L}\p{N}_\-./:]+$/u.test(key) ? key : `\`${key.replaceAll("`", "``")}\``;
        return { kind: "keyed", entity, key, type: keyed.type, display: `${lastPrefix(keyed.prefixes)}.${shown}` };
      }
    }
    if (!spec.attributePrefixes.includes(p)) {
      const valid = [...Object.values(spec.keyed), { prefixes: spec.attributePrefixes }]
        .filter((e) => e.prefixes.length > 0)
        .map((e) => `${lastPrefix(e.prefixes)}.<key>`);
      return `unknown prefix '${prefix}.': use ${valid.join(", ")}`;
    }
  }
  const name = key.toLowerCase();
  for (const [canonical, attr] of Object.entries(spec.attributes)) {
    if (canonical === name || attr.aliases.includes(name)) {
      return { kind: "attribute", name: canonical, type: attr.type, display: canonical };
    }
  }
  return `unknown attribute '${key}' of ${spec.what}: use one of ${Object.keys(spec.attributes).join(", ")}`;
}

/** The attribute of a resolved field; a spec/field mismatch is a programming error. */
export function attributeOf(spec: SearchSpec, name: string): AttributeSpec {
  const attr = spec.attributes[name];
  if (attr === undefined) throw new Error(`no attribute ${name} in the ${spec.what} spec`);
  return attr;
}

/** The keyed entity of a resolved field; a spec/field mismatch is a programming error. */
export function keyedOf(spec: SearchSpec, entity: string): KeyedEntitySpec {
  const keyed = spec.keyed[entity];
  if (keyed === undefined) throw new Error(`no keyed entity ${entity} in the ${spec.what} spec`);
  return keyed;
}

/** `<alias>.<column> = <expr> AND ...`: a row of a keyed table `alias` belongs to the searched row. */
export function ownerCondition(keyed: KeyedEntitySpec, alias: string): string {
  return Object.entries(keyed.owner)
    .map(([column, expr]) => `${alias}.${column} = ${expr}`)
    .join(" AND ");
}

function lastPrefix(prefixes: readonly string[]): string {
  return prefixes.at(-1) ?? "";
}
