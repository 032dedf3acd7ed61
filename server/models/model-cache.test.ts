import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    // Loaded from the cache's own link; shared for reuse under the version's directory.
    expect(path).toMatch(new RegExp(`^${cache.root}/\\.cache-${process.pid}-[0-9a-f-]+/iris/3/${sha256}\\.onnx$`));
    expect(readdirSync(join(cache.root, "iris", "3"))).toEqual([`${sha256}.onnx`]);
    expect(await cache.find(key)).toBe(path);
    // A sibling (another process's cache) finds the shared file.
    expect(readFileSync((await createModelCache(cache.root).find(key)) ?? "")).toEqual(content);
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
    expect(
      readdirSync(cache.root)
        .filter((e) => !e.startsWith(".cache-"))
        .sort(),
    ).toEqual(["%2E%2E", "%C3%BC", "a%20b"]);
  });

  it("keeps only the versions asked for", async () => {
    const cache = newCache();
    for (const version of ["1", "2", "3"]) await cache.store({ name: "iris", version, sha256 }, chunks(content), "x");
    await cache.retain("iris", ["3", "2"]);
    expect(readdirSync(join(cache.root, "iris")).sort()).toEqual(["2", "3"]);
  });
});

/** Chunks of `content` given one at a time, each only when the test releases it. */
function gated(): { chunks: AsyncIterable<Uint8Array>; release(): void; started: Promise<void> } {
  let open: () => void = () => {};
  let begin: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    begin = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    started,
    release: () => open(),
    chunks: (async function* () {
      yield content.subarray(0, 5);
      begin();
      await gate;
      yield content.subarray(5);
    })(),
  };
}

describe("model cache shared by processes (two caches over one directory)", () => {
  it("stores the same version from both at once: each gets a whole, verified file", async () => {
    const a = newCache();
    const b = createModelCache(a.root);
    const key = { name: "iris", version: "1", sha256 };
    const [pa, pb] = await Promise.all([
      a.store(key, chunks(content.subarray(0, 3), content.subarray(3)), "models:/iris/1", content.length),
      b.store(key, chunks(content.subarray(0, 7), content.subarray(7)), "models:/iris/1", content.length),
    ]);
    expect(readFileSync(pa)).toEqual(content);
    expect(readFileSync(pb)).toEqual(content);
    expect(readdirSync(join(a.root, "iris", "1"))).toEqual([`${sha256}.onnx`]);
  });

  it("never takes a file from under the other: one evicting a version does not disturb a download or a loaded file of it", async () => {
    const a = newCache();
    const b = createModelCache(a.root);
    const v1 = { name: "iris", version: "1", sha256 };
    const loaded = await b.store(v1, chunks(content), "models:/iris/1");
    // b downloads version 2 while a, which serves version 3 only, evicts every other version.
    const download = gated();
    const v2 = { name: "iris", version: "2", sha256 };
    const storing = b.store(v2, download.chunks, "models:/iris/2", content.length);
    await download.started;
    const served = await a.store({ name: "iris", version: "3", sha256 }, chunks(content), "models:/iris/3");
    await a.retain("iris", ["3"]);
    expect(readdirSync(join(a.root, "iris"))).toEqual(["3"]);
    download.release();
    expect(readFileSync(await storing)).toEqual(content);
    // b's loaded version 1 is still there for a worker that opens it now.
    expect(readFileSync(loaded)).toEqual(content);
    // b evicts 3 from the shared names (1 is gone already): a's loaded file of 3 stays.
    await b.retain("iris", ["1", "2"]);
    expect(readdirSync(join(a.root, "iris"))).toEqual(["2"]);
    expect(readFileSync(served)).toEqual(content);
  });

  it("removes the directory of a cache whose process is gone, at the next eviction", async () => {
    const cache = newCache();
    const dead = join(cache.root, ".cache-999999999-0a1b", "iris", "1");
    mkdirSync(dead, { recursive: true });
    writeFileSync(join(dead, `${sha256}.onnx`), content);
    await cache.store({ name: "iris", version: "1", sha256 }, chunks(content), "x");
    await cache.retain("iris", ["1"]);
    expect(readdirSync(cache.root).filter((e) => e.startsWith(".cache-999999999-"))).toEqual([]);
    expect(readdirSync(cache.root).filter((e) => e.startsWith(`.cache-${process.pid}-`))).toHaveLength(1);
  });
});
