import { QuerySyntaxError } from "./query-syntax-error.js";

/**
 * Tokens of the search language. Positions are 1-based columns (UTF-16 code units) of the
 * token's first character.
 *
 * - `word`: a bare name such as `AND`, `status` or `metrics` (letters, digits, `_`, not starting
 *   with a digit). Keywords are words; the parser compares them case-insensitively.
 * - `field`: `<prefix>.<key>`, e.g. `metrics.val_loss`, `tags.mlflow.note` (the key is everything
 *   after the first dot), or with a quoted key: metrics.`val loss`, params."lr".
 * - `quoted-name`: a backtick-quoted bare name, e.g. `` `run name` ``.
 * - `string`: a value in single or double quotes; a doubled quote inside stands for one quote.
 * - `number`: an integer or decimal with optional exponent and sign, e.g. `-1.5e-3`.
 * - `operator`: `= != <> < <= > >=`; `punct`: `( ) ,`; `end`: after the last token.
 */
export type FilterToken =
  | { readonly kind: "word"; readonly text: string; readonly position: number }
  | { readonly kind: "field"; readonly prefix: string; readonly key: string; readonly position: number }
  | { readonly kind: "quoted-name"; readonly text: string; readonly position: number }
  | { readonly kind: "string"; readonly value: string; readonly position: number }
  | { readonly kind: "number"; readonly value: number; readonly text: string; readonly position: number }
  | { readonly kind: "operator"; readonly text: ComparisonSymbol; readonly position: number }
  | { readonly kind: "punct"; readonly text: "(" | ")" | ","; readonly position: number }
  | { readonly kind: "end"; readonly position: number };

/** The symbolic comparison operators, as written. */
export type ComparisonSymbol = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=";

const wordStart = /[A-Za-z_]/;
const wordChar = /[A-Za-z0-9_]/;
/**
 * Characters of an unquoted key: the key characters of core/validation/keys.ts (letters,
 * digits, `_ - . / :`) except space, which needs quotes.
 */
const bareKeyChar = /[\p{L}\p{N}_\-./:]/u;
const numberPattern = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/;

/**
 * Splits a filter (or an order_by clause) into tokens, ending with an `end` token. Throws
 * {@link QuerySyntaxError} on an unterminated quote, an empty key, a malformed number, a NUL
 * (which PostgreSQL text cannot hold) or a character that starts no token.
 */
export function tokenize(text: string): FilterToken[] {
  const nul = text.indexOf("\u0000");
  if (nul >= 0) throw new QuerySyntaxError(nul + 1, "unexpected NUL character");
  const tokens: FilterToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const position = i + 1;
    if (/\s/.test(c)) {
      i++;
    } else if (wordStart.test(c)) {
      let j = i + 1;
      while (j < text.length && wordChar.test(text.charAt(j))) j++;
      const word = text.slice(i, j);
      if (text.charAt(j) !== ".") {
        tokens.push({ kind: "word", text: word, position });
        i = j;
        continue;
      }
      j++;
      const q = text.charAt(j);
      if (q === "`" || q === '"') {
        const quoted = readQuoted(text, j);
        if (quoted.value === "") throw new QuerySyntaxError(j + 1, `empty key after '${word}.'`);
        tokens.push({ kind: "field", prefix: word, key: quoted.value, position });
        i = quoted.end;
      } else {
        let k = j;
        while (k < text.length && bareKeyChar.test(text.charAt(k))) k++;
        if (k === j) {
          throw new QuerySyntaxError(
            j + 1,
            `expected a key after '${word}.' (quote keys with other characters in backticks, e.g. ${word}.\`my key\`)`,
          );
        }
        tokens.push({ kind: "field", prefix: word, key: text.slice(j, k), position });
        i = k;
      }
    } else if (c === "`") {
      const quoted = readQuoted(text, i);
      if (quoted.value === "") throw new QuerySyntaxError(position, "empty name in backticks");
      tokens.push({ kind: "quoted-name", text: quoted.value, position });
      i = quoted.end;
    } else if (c === "'" || c === '"') {
      const quoted = readQuoted(text, i);
      tokens.push({ kind: "string", value: quoted.value, position });
      i = quoted.end;
    } else if (/[0-9.+-]/.test(c)) {
      const m = numberPattern.exec(text.slice(i));
      if (m === null) throw new QuerySyntaxError(position, `unexpected character '${c}'`);
      const end = i + m[0].length;
      if (end < text.length && /[A-Za-z0-9_.]/.test(text.charAt(end))) {
        throw new QuerySyntaxError(position, `malformed number '${text.slice(i, end + 1)}'`);
      }
      const value = Number(m[0]);
      if (!Number.isFinite(value)) throw new QuerySyntaxError(position, `number '${m[0]}' is out of range`);
      tokens.push({ kind: "number", value, text: m[0], position });
      i = end;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: "punct", text: c, position });
      i++;
    } else if (c === "=" || c === "<" || c === ">" || c === "!") {
      const two = text.slice(i, i + 2);
      if (two === "!=" || two === "<>" || two === "<=" || two === ">=") {
        tokens.push({ kind: "operator", text: two, position });
        i += 2;
      } else if (c === "!") {
        throw new QuerySyntaxError(position, "unexpected character '!' (did you mean '!='?)");
      } else if (two === "==") {
        throw new QuerySyntaxError(position, "unexpected '==' (use '=')");
      } else {
        tokens.push({ kind: "operator", text: c, position });
        i++;
      }
    } else {
      throw new QuerySyntaxError(position, `unexpected character '${c}'`);
    }
  }
  tokens.push({ kind: "end", position: text.length + 1 });
  return tokens;
}

/** Reads a quoted run starting at `start` (the opening quote); a doubled quote is one quote. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  const quote = text.charAt(start);
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === quote) {
      if (text.charAt(i + 1) === quote) {
        value += quote;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += c;
    i++;
  }
  const what = quote === "`" ? "backtick-quoted name" : "string";
  throw new QuerySyntaxError(start + 1, `unterminated ${what}: no closing ${quote}`);
}
