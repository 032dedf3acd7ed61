/**
 * The filter language of SearchRegisteredModels and SearchModelVersions: conditions joined by
 * AND, each `<field> <op> <value>`, e.g. `name LIKE 'iris%' AND tags.team = 'ml'`. Fields are the
 * attributes a {@link FilterSpec} lists plus `tags.<key>` (a key with other characters goes in
 * backquotes: tags.`my key`). Strings are quoted with '...' or "..." (a doubled quote escapes
 * itself); numbers are whole. Smaller than the run search language (no OR, no IN) because MLflow's
 * registry search is this small too.
 *
 * Compiled to SQL with every value as a parameter; column names come only from the spec.
 */
import { commonErrors } from "../core/errors/common-errors.js";
import type { MlpipeError } from "../core/errors/mlpipe-error.js";

/** Value type of a field: `stage` is a string matched against the four stage names. */
export type FilterFieldType = "string" | "integer" | "stage";

/** A filterable column of the searched table. */
export interface FilterField {
  /** SQL expression of the column, e.g. `m.name`. */
  readonly sql: string;
  readonly type: FilterFieldType;
}

/** What a search filters on. */
export interface FilterSpec {
  /** Attributes by lower-case name. */
  readonly fields: Readonly<Record<string, FilterField>>;
  /**
   * Builds the condition "a tag with key `$keyParam` exists whose value satisfies `valueCondition`"
   * (in which the tag value column is `t.value`).
   */
  readonly tagCondition: (keyParam: string, valueCondition: string) => string;
}

type Op = "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE";

type Token =
  | { readonly kind: "word"; readonly text: string; readonly at: number }
  | { readonly kind: "quoted-name"; readonly text: string; readonly at: number }
  | { readonly kind: "string"; readonly text: string; readonly at: number }
  | { readonly kind: "number"; readonly text: string; readonly at: number }
  | { readonly kind: "op"; readonly text: Op; readonly at: number }
  | { readonly kind: "dot"; readonly at: number };

/** INVALID_ARGUMENT naming `filter` and the 1-based position of the problem. */
function filterError(at: number, reason: string): MlpipeError {
  return commonErrors.invalidArgument("filter", `at position ${at + 1}: ${reason}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "'" || c === '"' || c === "`") {
      let value = "";
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw filterError(i, "unterminated quote");
        const d = text.charAt(j);
        if (d === c) {
          if (text.charAt(j + 1) === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += d;
        j += 1;
      }
      tokens.push({ kind: c === "`" ? "quoted-name" : "string", text: value, at: i });
      i = j + 1;
    } else if (c === ".") {
      tokens.push({ kind: "dot", at: i });
      i += 1;
    } else if ("=!<>".includes(c)) {
      const two = text.slice(i, i + 2);
      const op = two === "!=" || two === "<=" || two === ">=" || two === "<>" ? two : c;
      if (op === "!") throw filterError(i, "'!' must be followed by '='");
      tokens.push({ kind: "op", text: op === "<>" ? "!=" : (op as Op), at: i });
      i += op.length;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+/.exec(text.slice(i));
      if (m === null) throw filterError(i, `unexpected '${c}'`);
      tokens.push({ kind: "number", text: m[0], at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i));
      const word = m?.[0] ?? c;
      const upper = word.toUpperCase();
      tokens.push(
        upper === "LIKE" || upper === "ILIKE"
          ? { kind: "op", text: upper, at: i }
          : { kind: "word", text: word, at: i },
      );
      i += word.length;
    } else {
      throw filterError(i, `unexpected '${c}'`);
    }
  }
  return tokens;
}

/**
 * Parses `filter` against `spec` and returns its SQL conditions (to be joined by AND), appending
 * the values to `params` (so `$n` numbering continues from params.length). Empty filter: no
 * condition. Throws INVALID_ARGUMENT (field "filter") naming the position of the first problem.
 */
export function compileFilter(filter: string, spec: FilterSpec, params: unknown[]): string[] {
  const tokens = tokenize(filter);
  const conditions: string[] = [];
  let i = 0;
  const next = (): Token | undefined => tokens[i];
  const end = filter.length;
  while (i < tokens.length) {
    if (conditions.length > 0) {
      const and = next();
      if (and?.kind !== "word" || and.text.toUpperCase() !== "AND") {
        throw filterError(and?.at ?? end, "expected AND between conditions (OR is not supported here)");
      }
      i += 1;
    }
    const fieldToken = next();
    if (fieldToken?.kind !== "word") throw filterError(fieldToken?.at ?? end, "expected a field name");
    i += 1;
    let tagKey: string | undefined;
    let field: FilterField | undefined;
    const lower = fieldToken.text.toLowerCase();
    if (next()?.kind === "dot") {
      if (lower !== "tags" && lower !== "tag") {
        throw filterError(fieldToken.at, `unknown prefix '${fieldToken.text}.': use tags.<key>`);
      }
      i += 1;
      const keyToken = next();
      if (keyToken === undefined || (keyToken.kind !== "word" && keyToken.kind !== "quoted-name")) {
        throw filterError(keyToken?.at ?? end, "expected a tag key after 'tags.'");
      }
      tagKey = keyToken.text;
      i += 1;
      // Unquoted keys may contain dots: tags.a.b is the key "a.b".
      while (next()?.kind === "dot" && tokens[i + 1]?.kind === "word") {
        tagKey += `.${(tokens[i + 1] as { text: string }).text}`;
        i += 2;
      }
    } else {
      field = spec.fields[lower];
      if (field === undefined) {
        throw filterError(
          fieldToken.at,
          `unknown field '${fieldToken.text}': use ${[...Object.keys(spec.fields), "tags.<key>"].join(", ")}`,
        );
      }
    }
    const opToken = next();
    if (opToken?.kind !== "op")
      throw filterError(opToken?.at ?? end, "expected a comparison (= != < <= > >= LIKE ILIKE)");
    i += 1;
    const valueToken = next();
    if (valueToken === undefined || (valueToken.kind !== "string" && valueToken.kind !== "number")) {
      throw filterError(valueToken?.at ?? end, "expected a quoted string or a number");
    }
    i += 1;
    const type: FilterFieldType = field?.type ?? "string";
    const op = opToken.text;
    let value: string | number = valueToken.text;
    if (type === "integer") {
      if (op === "LIKE" || op === "ILIKE") throw filterError(opToken.at, `${op} compares strings only`);
      if (valueToken.kind !== "number") throw filterError(valueToken.at, "expected a whole number");
      value = Number(valueToken.text);
    } else {
      if (valueToken.kind !== "string") throw filterError(valueToken.at, "expected a quoted string");
      if (op !== "=" && op !== "!=" && op !== "LIKE" && op !== "ILIKE") {
        throw filterError(opToken.at, `${op} compares numbers only; use = != LIKE ILIKE`);
      }
      if (type === "stage") {
        if (op !== "=" && op !== "!=") throw filterError(opToken.at, "stages compare with = and != only");
        const stage = ["None", "Staging", "Production", "Archived"].find(
          (s) => s.toLowerCase() === valueToken.text.toLowerCase(),
        );
        if (stage === undefined)
          throw filterError(valueToken.at, "a stage is one of None, Staging, Production, Archived");
        value = stage;
      }
    }
    params.push(value);
    const valueParam = `$${params.length}`;
    if (tagKey !== undefined) {
      params.push(tagKey);
      conditions.push(spec.tagCondition(`$${params.length}`, `t.value ${op} ${valueParam}`));
    } else if (field !== undefined) {
      conditions.push(`${field.sql} ${op} ${type === "integer" ? `${valueParam}::bigint` : valueParam}`);
    }
  }
  return conditions;
}
