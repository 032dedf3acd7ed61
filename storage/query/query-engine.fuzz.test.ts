/**
 * Fuzz suite of the search engine (issue 13, "Evidence to show"): any filter text is parsed into
 * an expression that compiles to SQL, or refused with the spec's catalogued error; any page token
 * decodes to sort values or is refused with INVALID_PAGE_TOKEN; a token issued for one query is
 * never accepted for another. Never another exception, never a hang (inputs are bounded, and the
 * parser's limits of length, depth and comparisons hold).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MlpipeError } from "../../core/errors/index.js";
import { runSearchSpec } from "../../tracking/search/run-search-spec.js";
import { parseFilter } from "./filter-parser.js";
import { decodePageToken, encodePageToken, type SortColumnType } from "./page-token.js";
import { buildSearchSql } from "./search-sql.js";

/** Words and symbols of the filter language, so random filters get past the first token often. */
const filterPiece = fc.oneof(
  fc.constantFrom(
    "metrics.loss",
    "params.lr",
    "tags.`a b`",
    "attributes.status",
    "run_name",
    "start_time",
    "=",
    "!=",
    "<",
    ">=",
    "LIKE",
    "ILIKE",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "AND",
    "OR",
    "(",
    ")",
    ",",
    "'x'",
    "'%a_'",
    '"q"',
    "1e308",
    "-0.5",
    "NaN",
    "'",
    "`",
    "\\",
  ),
  fc.string({ maxLength: 6 }),
  fc.integer().map(String),
);
const filterText = fc.oneof(
  fc.array(filterPiece, { maxLength: 30 }).map((parts) => parts.join(" ")),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
);

/** Runs `fn`; true when it returned or threw a catalogued MlpipeError. */
function onlyCatalogued(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof MlpipeError)) throw err;
    expect(err.id).not.toBe("INTERNAL");
  }
}

describe("filter parser and SQL compiler (fuzz)", () => {
  it("parses and compiles any filter, or refuses it with TRACKING_INVALID_FILTER", () => {
    fc.assert(
      fc.property(filterText, (text) => {
        try {
          const filter = parseFilter(text, runSearchSpec);
          buildSearchSql({ spec: runSearchSpec, filter, order: [], after: undefined, limit: 10 });
        } catch (err) {
          if (!(err instanceof MlpipeError)) throw err;
          expect(err.id).toBe("TRACKING_INVALID_FILTER");
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("accepts deep nesting and long conjunctions only up to the parser's limits", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 300 }), (depth, comparisons) => {
        const conjunction = Array.from({ length: comparisons }, (_, i) => `metrics.k${i} > 0`).join(" AND ");
        onlyCatalogued(() => parseFilter(`${"(".repeat(depth)}${conjunction}${")".repeat(depth)}`, runSearchSpec));
      }),
      { numRuns: 300 },
    );
  });
});

const columnType = fc.constantFrom<SortColumnType>("text", "bigint", "float8", "int");

describe("page tokens (fuzz)", () => {
  it("decodes any string to values or refuses it with INVALID_PAGE_TOKEN", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 300 })),
        fc.array(columnType, { minLength: 1, maxLength: 4 }),
        (token, types) => {
          try {
            expect(decodePageToken(token, "q", types)).toHaveLength(types.length);
          } catch (err) {
            if (!(err instanceof MlpipeError)) throw err;
            expect(err.id).toBe("INVALID_PAGE_TOKEN");
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("round-trips its own tokens and refuses them, or any alteration, for another query", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 4 }),
        fc.string({ maxLength: 20 }),
        fc.nat(),
        (values, other, at) => {
          const token = encodePageToken("query", values);
          const types = values.map(() => "text" as const);
          expect(decodePageToken(token, "query", types)).toEqual(values);
          if (other !== "query") {
            expect(() => decodePageToken(token, other, types)).toThrow(MlpipeError);
          }
          const i = at % token.length;
          const altered = `${token.slice(0, i)}${token[i] === "A" ? "B" : "A"}${token.slice(i + 1)}`;
          onlyCatalogued(() => {
            // A changed character may decode to the same bytes (base64 padding bits); then the values are the same.
            expect(decodePageToken(altered, "query", types)).toEqual(values);
          });
        },
      ),
      { numRuns: 3000 },
    );
  });
});
