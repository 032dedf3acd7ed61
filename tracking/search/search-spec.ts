/**
 * What a search can filter and order on: the root table, the key/value tables reached through
 * prefixes (`metrics.<key>`, `params.<key>`, `tags.<key>`), and the attributes. One spec per
 * searchable thing (runs, experiments); the parser checks names and types against it and the SQL
 * compiler takes table and column names only from it, never from the caller.
 */
export interface SearchSpec {
  /** What is searched, for messages and the page-token hash: "runs" or "experiments". */
  readonly what: string;
  /** The root table and its alias in the generated SQL, e.g. `runs` / `r`. */
  readonly table: string;
  readonly alias: string;
  /** The id column of the root table, the final tie-breaker of every order. */
  readonly idColumn: string;
  /** SQL type of the id column, to cast page-token values back: "text" or "bigint". */
  readonly idType: "text" | "bigint";
  /** The root table's `'active' | 'deleted'` column that view types select on. */
  readonly lifecycleColumn: string;
  /** Key/value tables by entity name ("metric", "param", "tag"). */
  readonly keyed: Readonly<Record<string, KeyedEntitySpec>>;
  /** Attributes by canonical name ("start_time"). */
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  /** Prefixes, lower-case, that name an attribute explicitly: `attributes.run_name`. */
  readonly attributePrefixes: readonly string[];
}

/**
 * Value types of the search language. `float`: any number (metric values; NaN stored values match
 * no comparison). `integer`: whole numbers (times in ms). `string`: quoted strings.
 */
export type FieldType = "float" | "integer" | "string";

/** A table of (owner id, key, value) rows reached through a prefix, e.g. `params`. */
export interface KeyedEntitySpec {
  /** Prefixes naming it, lower-case: ["metric", "metrics"]. The first is used in messages (plural). */
  readonly prefixes: readonly string[];
  readonly table: string;
  /** The column referencing the root table's id. */
  readonly ownerColumn: string;
  readonly type: FieldType;
}

/** A column of the root table. */
export interface AttributeSpec {
  /** The SQL column of the root table. */
  readonly column: string;
  readonly type: FieldType;
  /** SQL type of the column, to cast page-token values back. */
  readonly sqlType: "text" | "bigint";
  /** True when the column may be NULL (sorted last, like a missing metric). */
  readonly nullable: boolean;
  /** Other accepted spellings, lower-case (e.g. "run name", "created"). */
  readonly aliases: readonly string[];
  /** When set, the only values `=`, `!=`, `IN` and `NOT IN` accept (matched case-insensitively). */
  readonly allowedValues?: readonly string[];
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
        return { kind: "keyed", entity, key, type: keyed.type, display: `${lastPrefix(keyed)}.${shown}` };
      }
    }
    if (!spec.attributePrefixes.includes(p)) {
      const valid = [...Object.values(spec.keyed).map(lastPrefix), spec.attributePrefixes.at(-1) ?? "attributes"];
      return `unknown prefix '${prefix}.': use ${valid.map((v) => `${v}.<key>`).join(", ")}`;
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

function lastPrefix(keyed: KeyedEntitySpec): string {
  return keyed.prefixes.at(-1) ?? "";
}
