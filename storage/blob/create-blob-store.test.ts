import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../core/config.js";
import { createBlobStore } from "./create-blob-store.js";
import { parseS3Uri } from "./s3-blob-store.js";

describe("createBlobStore", () => {
  it("makes an S3 store for an s3:// artifact root", async () => {
    const config = loadConfig({
      ARTIFACT_ROOT: "s3://mlpipe-artifacts/team/a/",
      S3_ENDPOINT_URL: "http://127.0.0.1:9",
    });
    const store = await createBlobStore(config);
    try {
      expect(store.rootUri).toBe("s3://mlpipe-artifacts/team/a");
    } finally {
      await store.close();
    }
  });

  it("makes a local store, creating the directory, for any other artifact root", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mlpipe-blob-"));
    try {
      const config = loadConfig({ ARTIFACT_ROOT: "artifacts" }, dir);
      const store = await createBlobStore(config);
      expect(store.rootUri).toBe(pathToFileURL(join(dir, "artifacts")).href);
      expect((await stat(join(dir, "artifacts"))).isDirectory()).toBe(true);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("parseS3Uri", () => {
  it.each([
    ["s3://bucket", { bucket: "bucket", prefix: "" }],
    ["s3://bucket/", { bucket: "bucket", prefix: "" }],
    ["s3://bucket/a/b", { bucket: "bucket", prefix: "a/b/" }],
    ["s3://bucket/a/b//", { bucket: "bucket", prefix: "a/b/" }],
  ])("splits %s", (uri, expected) => {
    expect(parseS3Uri(uri)).toEqual(expected);
  });

  it.each(["s3:/bucket", "file:///tmp", "s3://", "s3://bucket/a/../b", "s3://bucket//a"])("refuses %s", (uri) => {
    expect(() => parseS3Uri(uri)).toThrow(expect.objectContaining({ id: "INVALID_ARGUMENT" }));
  });
});
