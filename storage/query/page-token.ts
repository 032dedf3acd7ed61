/**
 * Keyset page tokens, shared by every paged read of the registry (tracking searches, metric
 * history, model registry searches and audit log): base64url of JSON `{"k": [sort values of the
 * page's last row], "h": check}`, where `check` hashes the canonical query together with the
 * values. A token is only valid for the query that issued it (page size may change), and an edited
 * token fails the check: both give INVALID_PAGE_TOKEN.
 *
 * The check is not a secret-keyed MAC: someone who knows the scheme can build a token, but that
 * only chooses where a page starts, which a filter can do as well.
 */
import { createHash } from "node:crypto";
import { commonErrors } from "../../core/errors/common-errors.js";

/** SQL types of sort columns, used to check page-token values and to cast them (always sent as text) back. */
export type SortColumnType = "text" | "bigint" | "float8" | "int";

/** Longest page token accepted, in characters (sort values can hold long param and tag values). */
const maxPageTokenLength = 100_000;

/** The token of the page after the row with these sort values (their text form), for `query`. */
export function encodePageToken(query: string, values: readonly string[]): string {
  return Buffer.from(JSON.stringify({ k: values, h: check(query, values) }), "utf8").toString("base64url");
}

/**
 * Decodes a token issued by {@link encodePageToken} for `query`, checking it and the type of each
 * value against the order's column types. Throws INVALID_PAGE_TOKEN on anything else.
 */
export function decodePageToken(token: string, query: string, types: readonly SortColumnType[]): string[] {
  if (token.length > maxPageTokenLength || !/^[A-Za-z0-9_-]+$/.test(token)) throw commonErrors.invalidPageToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw commonErrors.invalidPageToken();
  }
  if (typeof parsed !== "object" || parsed === null) throw commonErrors.invalidPageToken();
  const { k, h } = parsed as { k?: unknown; h?: unknown };
  if (!Array.isArray(k) || typeof h !== "string" || k.length !== types.length) throw commonErrors.invalidPageToken();
  const values: string[] = [];
  for (const [i, v] of k.entries()) {
    const type = types[i];
    if (typeof v !== "string" || type === undefined || !valueIsValid[type](v)) {
      throw commonErrors.invalidPageToken();
    }
    values.push(v);
  }
  if (h !== check(query, values)) throw commonErrors.invalidPageToken();
  return values;
}

/** What PostgreSQL's text output of each column type looks like (text: anything but NUL). */
const valueIsValid: Record<SortColumnType, (value: string) => boolean> = {
  text: (v) => !v.includes("\u0000"),
  bigint: (v) => /^-?\d{1,19}$/.test(v),
  int: (v) => /^-?\d{1,9}$/.test(v),
  float8: (v) => /^(?:-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|NaN|-?Infinity)$/.test(v),
};

function check(query: string, values: readonly string[]): string {
  return createHash("sha256")
    .update(query)
    .update("\u0000")
    .update(JSON.stringify(values))
    .digest("base64url")
    .slice(0, 32);
}
