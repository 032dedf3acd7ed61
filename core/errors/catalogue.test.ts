import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogue } from "./catalogue.js";
import { Code, codeName } from "./code.js";
import { codeToHttpStatus, httpStatusOf } from "./http-status.js";

const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "errors.md"), "utf8");

/** Rows of docs/errors.md tables: | ID | code | HTTP | summary | */
function documentedRows(): Map<string, { code: string; http: string }> {
  const rows = new Map<string, { code: string; http: string }>();
  for (const line of doc.split("\n")) {
    const m = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined && m[3] !== undefined) rows.set(m[1], { code: m[2], http: m[3] });
  }
  return rows;
}

describe("error catalogue", () => {
  const entries = Object.values(catalogue).flatMap((domain) => Object.values(domain));

  it("has unique ids", () => {
    const ids = entries.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("is documented in docs/errors.md with the right code and HTTP status, and nothing else is", () => {
    const rows = documentedRows();
    for (const e of entries) {
      expect(rows.get(e.id), `docs/errors.md row for ${e.id}`).toEqual({
        code: codeName(e.code),
        http: String(httpStatusOf(e)),
      });
    }
    expect([...rows.keys()].sort()).toEqual(entries.map((e) => e.id).sort());
  });

  it("maps every code to an HTTP status in the 4xx/5xx range", () => {
    for (const code of Object.values(Code)) {
      const status = codeToHttpStatus(code);
      expect(status >= 400 && status < 600, `${codeName(code)} -> ${status}`).toBe(true);
    }
    expect(codeToHttpStatus(Code.InvalidArgument)).toBe(400);
    expect(codeToHttpStatus(Code.NotFound)).toBe(404);
    expect(codeToHttpStatus(Code.AlreadyExists)).toBe(409);
    expect(codeToHttpStatus(Code.ResourceExhausted)).toBe(429);
    expect(codeToHttpStatus(Code.Unavailable)).toBe(503);
    expect(httpStatusOf({ code: Code.ResourceExhausted, id: "REQUEST_TOO_LARGE" })).toBe(413);
    expect(httpStatusOf({ code: Code.ResourceExhausted, id: "INFERENCE_QUEUE_FULL" })).toBe(429);
  });
});
