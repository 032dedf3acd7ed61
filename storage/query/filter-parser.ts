import type { ComparisonOp, FilterExpr, FilterValue } from "./filter-ast.js";
import { type FilterToken, tokenize } from "./filter-lexer.js";
import { QuerySyntaxError } from "./query-syntax-error.js";
import { type ResolvedField, resolveField, type SearchSpec } from "./search-spec.js";

/** Longest filter accepted, in characters. */
export const maxFilterLength = 10_000;
/** Deepest nesting of parentheses accepted. */
export const maxFilterDepth = 32;
/** Most comparisons (including IN and IS NULL tests) in one filter: each becomes a SQL condition. */
export const maxFilterComparisons = 200;
/** Most values in one IN list. */
const maxInListValues = 1000;

/**
 * Parses a filter expression into a type-checked tree; undefined for an empty (or blank) filter,
 * which matches everything. Grammar (keywords case-insensitive, AND binds tighter than OR):
 *
 *     expr       := and (OR and)*
 *     and        := unary (AND unary)*
 *     unary      := '(' expr ')' | comparison
 *     comparison := field op value | field [NOT] IN '(' value (',' value)* ')' | field IS [NOT] NULL
 *     op         := = | != | <> | < | <= | > | >= | [NOT] LIKE | [NOT] ILIKE
 *
 * Throws the spec's invalid-filter error naming the 1-based position and what was expected there.
 */
export function parseFilter(text: string, spec: SearchSpec): FilterExpr | undefined {
  try {
    if (text.length > maxFilterLength) {
      throw new QuerySyntaxError(maxFilterLength + 1, `filter is longer than ${maxFilterLength} characters`);
    }
    const tokens = tokenize(text);
    const first = tokens[0];
    if (first === undefined || first.kind === "end") return undefined;
    return new Parser(tokens, spec).parseAll();
  } catch (err) {
    if (err instanceof QuerySyntaxError) throw spec.invalidFilter(err.position, err.reason);
    throw err;
  }
}

class Parser {
  readonly #tokens: FilterToken[];
  readonly #spec: SearchSpec;
  #index = 0;
  #depth = 0;
  #comparisons = 0;

  constructor(tokens: FilterToken[], spec: SearchSpec) {
    this.#tokens = tokens;
    this.#spec = spec;
  }

  parseAll(): FilterExpr {
    const expr = this.#parseOr();
    const next = this.#peek();
    if (next.kind !== "end") {
      if (next.kind === "punct" && next.text === ")") throw new QuerySyntaxError(next.position, "unbalanced ')'");
      throw new QuerySyntaxError(next.position, `expected AND, OR or the end of the filter, got ${describe(next)}`);
    }
    return expr;
  }

  #parseOr(): FilterExpr {
    const operands = [this.#parseAnd()];
    while (this.#isKeyword(this.#peek(), "OR")) {
      this.#index++;
      operands.push(this.#parseAnd());
    }
    return operands.length === 1 && operands[0] !== undefined ? operands[0] : { kind: "or", operands };
  }

  #parseAnd(): FilterExpr {
    const operands = [this.#parseUnary()];
    while (this.#isKeyword(this.#peek(), "AND")) {
      this.#index++;
      operands.push(this.#parseUnary());
    }
    return operands.length === 1 && operands[0] !== undefined ? operands[0] : { kind: "and", operands };
  }

  #parseUnary(): FilterExpr {
    const token = this.#peek();
    if (token.kind === "punct" && token.text === "(") {
      if (this.#depth >= maxFilterDepth) {
        throw new QuerySyntaxError(token.position, `parentheses nested deeper than ${maxFilterDepth}`);
      }
      this.#index++;
      this.#depth++;
      const inner = this.#parseOr();
      const close = this.#peek();
      if (!(close.kind === "punct" && close.text === ")")) {
        if (close.kind === "end") {
          throw new QuerySyntaxError(token.position, "unbalanced '(': no matching ')'");
        }
        throw new QuerySyntaxError(close.position, `expected ')', AND or OR, got ${describe(close)}`);
      }
      this.#index++;
      this.#depth--;
      return inner;
    }
    return this.#parseComparison();
  }

  #parseComparison(): FilterExpr {
    const fieldToken = this.#next();
    const field = this.#resolve(fieldToken);
    if (++this.#comparisons > maxFilterComparisons) {
      throw new QuerySyntaxError(fieldToken.position, `more than ${maxFilterComparisons} comparisons`);
    }
    const position = fieldToken.position;
    const opToken = this.#next();
    if (opToken.kind === "operator") {
      const op: ComparisonOp = opToken.text === "<>" ? "!=" : opToken.text;
      const value = this.#parseValue(`after '${opToken.text}'`);
      this.#checkValue(field, op, value);
      return { kind: "comparison", field, op, value: this.#normalize(field, value), position };
    }
    if (this.#isKeyword(opToken, "IS")) {
      const negated = this.#isKeyword(this.#peek(), "NOT");
      if (negated) this.#index++;
      const nullToken = this.#next();
      if (!this.#isKeyword(nullToken, "NULL")) {
        throw new QuerySyntaxError(nullToken.position, `expected NULL after 'IS${negated ? " NOT" : ""}'`);
      }
      return { kind: "null-check", field, negated, position };
    }
    let negated = false;
    let keyword: FilterToken = opToken;
    if (this.#isKeyword(opToken, "NOT")) {
      negated = true;
      keyword = this.#next();
      if (!(this.#isKeyword(keyword, "IN") || this.#isKeyword(keyword, "LIKE") || this.#isKeyword(keyword, "ILIKE"))) {
        throw new QuerySyntaxError(keyword.position, "expected IN, LIKE or ILIKE after 'NOT'");
      }
    }
    if (this.#isKeyword(keyword, "LIKE") || this.#isKeyword(keyword, "ILIKE")) {
      const like = this.#isKeyword(keyword, "LIKE");
      const op: ComparisonOp = like ? (negated ? "NOT LIKE" : "LIKE") : negated ? "NOT ILIKE" : "ILIKE";
      const value = this.#parseValue(`after '${op}'`);
      this.#checkValue(field, op, value);
      return { kind: "comparison", field, op, value, position };
    }
    if (this.#isKeyword(keyword, "IN")) {
      const open = this.#next();
      if (!(open.kind === "punct" && open.text === "(")) {
        throw new QuerySyntaxError(open.position, `expected '(' after '${negated ? "NOT IN" : "IN"}'`);
      }
      const close = this.#peek();
      if (close.kind === "punct" && close.text === ")") {
        throw new QuerySyntaxError(close.position, "empty IN list: give at least one value");
      }
      const values: FilterValue[] = [];
      for (;;) {
        const value = this.#parseValue(values.length === 0 ? "after '('" : "after ','");
        this.#checkValue(field, "=", value, negated ? "NOT IN" : "IN");
        if (values.length >= maxInListValues) {
          throw new QuerySyntaxError(value.position, `more than ${maxInListValues} values in an IN list`);
        }
        values.push(this.#normalize(field, value));
        const sep = this.#next();
        if (sep.kind === "punct" && sep.text === ")") break;
        if (!(sep.kind === "punct" && sep.text === ",")) {
          if (sep.kind === "end") throw new QuerySyntaxError(open.position, "unbalanced '(': IN list has no ')'");
          throw new QuerySyntaxError(sep.position, `expected ',' or ')' in the IN list, got ${describe(sep)}`);
        }
      }
      return { kind: "in", field, negated, values, position };
    }
    throw new QuerySyntaxError(
      opToken.position,
      opToken.kind === "end"
        ? `expected an operator after ${field.display}`
        : `expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL) after ${field.display}, got ${describe(opToken)}`,
    );
  }

  #resolve(token: FilterToken): ResolvedField {
    let resolved: ResolvedField | string;
    if (token.kind === "field") resolved = resolveField(this.#spec, token.prefix, token.key);
    else if (token.kind === "word" && !isKeywordText(token.text))
      resolved = resolveField(this.#spec, undefined, token.text);
    else if (token.kind === "quoted-name") resolved = resolveField(this.#spec, undefined, token.text);
    else if (token.kind === "end")
      throw new QuerySyntaxError(token.position, "expected a comparison, got the end of the filter");
    else
      throw new QuerySyntaxError(token.position, `expected a field name such as metrics.<key>, got ${describe(token)}`);
    if (typeof resolved === "string") throw new QuerySyntaxError(token.position, resolved);
    return resolved;
  }

  #parseValue(where: string): FilterValue {
    const token = this.#next();
    if (token.kind === "string") return { kind: "string", value: token.value, position: token.position };
    if (token.kind === "number") {
      return { kind: "number", value: token.value, text: token.text, position: token.position };
    }
    const got = token.kind === "end" ? "" : `, got ${describe(token)}`;
    const hint = token.kind === "field" || token.kind === "word" ? " (quote strings: 'value')" : "";
    throw new QuerySyntaxError(token.position, `expected a value ${where}${got}${hint}`);
  }

  /** Type rules: numbers for numeric fields (no LIKE), quoted strings for string fields. */
  #checkValue(field: ResolvedField, op: ComparisonOp, value: FilterValue, shownOp: string = op): void {
    const isLike = op.endsWith("LIKE");
    if (field.type === "string") {
      if (value.kind !== "string") {
        throw new QuerySyntaxError(
          value.position,
          `${field.display} compares to strings: quote the value, e.g. '${value.text}'`,
        );
      }
      if (op === "<" || op === "<=" || op === ">" || op === ">=") {
        throw new QuerySyntaxError(
          value.position,
          `${field.display} is a string: use =, !=, LIKE, ILIKE, IN or NOT IN, not '${shownOp}'`,
        );
      }
      if (isLike && /(^|[^\\])(\\\\)*\\$/.test(value.value)) {
        throw new QuerySyntaxError(
          value.position,
          "the pattern ends with the escape character '\\' (write '\\\\' for a backslash)",
        );
      }
      const allowed = this.#allowedValues(field);
      if (allowed !== undefined && !isLike && canonicalValue(allowed, value.value) === undefined) {
        throw new QuerySyntaxError(
          value.position,
          `invalid ${field.display} '${value.value}': use one of ${allowed.join(", ")}`,
        );
      }
      return;
    }
    if (isLike) {
      throw new QuerySyntaxError(value.position, `${field.display} is a number: '${shownOp}' applies to strings only`);
    }
    if (value.kind !== "number") {
      throw new QuerySyntaxError(
        value.position,
        `${field.display} compares to numbers, got the string '${value.value}'`,
      );
    }
    if (field.type === "integer" && !Number.isSafeInteger(value.value)) {
      throw new QuerySyntaxError(
        value.position,
        `${field.display} compares to whole numbers (milliseconds or ids), got ${value.text}`,
      );
    }
  }

  #allowedValues(field: ResolvedField): readonly string[] | undefined {
    return field.kind === "attribute" ? this.#spec.attributes[field.name]?.allowedValues : undefined;
  }

  /** Values of enumerated attributes in their stored spelling (`status = 'finished'` means FINISHED). */
  #normalize(field: ResolvedField, value: FilterValue): FilterValue {
    const allowed = this.#allowedValues(field);
    if (value.kind === "string" && allowed !== undefined) {
      return { ...value, value: canonicalValue(allowed, value.value) ?? value.value };
    }
    return value;
  }

  #isKeyword(token: FilterToken, keyword: string): boolean {
    return token.kind === "word" && token.text.toUpperCase() === keyword;
  }

  #peek(): FilterToken {
    return this.#tokens[this.#index] ?? { kind: "end", position: 0 };
  }

  #next(): FilterToken {
    const token = this.#peek();
    if (token.kind !== "end") this.#index++;
    return token;
  }
}

/** The allowed value `value` names, matched case-insensitively; undefined when none. */
function canonicalValue(allowed: readonly string[], value: string): string | undefined {
  const lower = value.toLowerCase();
  return allowed.find((a) => a.toLowerCase() === lower);
}

const keywords = new Set(["AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL"]);

function isKeywordText(text: string): boolean {
  return keywords.has(text.toUpperCase());
}

function describe(token: FilterToken): string {
  switch (token.kind) {
    case "word":
      return `'${token.text}'`;
    case "field":
      return `'${token.prefix}.${token.key}'`;
    case "quoted-name":
      return `\`${token.text}\``;
    case "string":
      return `the string '${token.value}'`;
    case "number":
      return `the number ${token.text}`;
    case "operator":
    case "punct":
      return `'${token.text}'`;
    case "end":
      return "the end of the filter";
  }
}
