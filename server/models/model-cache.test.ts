import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inferenceErrors } from "../../core/errors/index.js";
import { createModelCache } from "./model-cache.js";

const content = Buffer.from("not really onnx, but bytes all the same");
const sha256 = createHash("sha256").update(content).digest("hex");

async function* chunks(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* parts;
}

const roots: string[] = [];
function newCache() {
  const root = mkdtempSync(join(tmpdir(), "mlpipe-cache-"));
  roots.push(root);
  return createModelCache(root);
}

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe("model cache", () => {
  it("stores a verified file under <name>/<version>/<sha256>.onnx and finds it again", async () => {
    const cache = newCache();
    const key = { name: "iris", version: "3", sha256 };
    expect(await cache.find(key)).toBeUndefined();
    const path = await cache.store(
      key,
      chunks(content.subarray(0, 5), content.subarray(5)),
      "models:/iris/3",
      content.length,
    );
    expect(path).toBe(join(cache.root, "iris", "3", `${sha256}.onnx`));
    expect(await cache.find(key)).toBe(path);
    // Another content under the same name and version (a re-created model) is a different file.
    expect(await cache.find({ ...key, sha256: "0".repeat(64) })).toBeUndefined();
  });

  it("refuses content whose hash or size differs, leaving nothing behind", async () => {
    const cache = newCache();
    const key = { name: "iris", version: "1", sha256 };
    const wrong = cache.store(key, chunks(Buffer.from("other bytes")), "models:/iris/1");
    await expect(wrong).rejects.toSatisfy((e: unknown) => inferenceErrors.modelChecksumMismatch.is(e));
    await expect(cache.store(key, chunks(content), "models:/iris/1", content.length + 1)).rejects.toSatisfy(
      (e: unknown) => inferenceErrors.modelChecksumMismatch.is(e),
    );
    expect(readdirSync(join(cache.root, "iris", "1"))).toEqual([]);
  });

  it("drops a cached file whose content no longer matches its hash", async () => {
    const cache = newCache();
    const key = { name: "iris", version: "1", sha256 };
    const path = await cache.store(key, chunks(content), "models:/iris/1");
    writeFileSync(path, "corrupted");
    expect(await cache.find(key)).toBeUndefined();
    expect(readdirSync(join(cache.root, "iris", "1"))).toEqual([]);
  });

  it("encodes model names into safe directory names", async () => {
    const cache = newCache();
    for (const name of ["..", "a b", "ü"]) await cache.store({ name, version: "1", sha256 }, chunks(content), name);
    expect(readdirSync(cache.root).sort()).toEqual(["%2E%2E", "%C3%BC", "a%20b"]);
  });

  it("keeps only the versions asked for", async () => {
    const cache = newCache();
    for (const version of ["1", "2", "3"]) await cache.store({ name: "iris", version, sha256 }, chunks(content), "x");
    await cache.retain("iris", ["3", "2"]);
    expect(readdirSync(join(cache.root, "iris")).sort()).toEqual(["2", "3"]);
  });
});
