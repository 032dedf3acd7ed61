/**
 * What the download functions refuse, against servers that misbehave in ways the real one never
 * does (it validates every stored path and hashes every stored file), so these run over an
 * in-memory Connect transport with a hand-written TrackingService. The real server's paths are
 * covered by sdk/mlpipe-client.int.test.ts and cli/artifacts.int.test.ts.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlpipeError } from "../core/errors/mlpipe-error.js";
import { type FileInfo, FileInfoSchema, TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import {
  checkArtifactPath,
  downloadArtifactDir,
  downloadArtifactFile,
  listArtifactFiles,
} from "./artifact-download.js";

const runId = "0123456789abcdef0123456789abcdef";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mlpipe-sdk-download-"));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A tracking client whose server lists `listing[dir]` and serves `content[path]`, announcing `announced[path]` as its hash. */
function fakeTracking(
  listing: Readonly<Record<string, readonly FileInfo[]>>,
  content: Readonly<Record<string, string>> = {},
  announced: Readonly<Record<string, string>> = {},
) {
  const transport = createRouterTransport(({ service }) =>
    service(TrackingService, {
      listArtifacts: (req) => ({ rootUri: "file:///fake", files: [...(listing[req.path] ?? [])] }),
      async *downloadArtifact(req) {
        const text = content[req.path] ?? "";
        yield {
          content: {
            case: "info",
            value: file(req.path, text, announced[req.path] ?? sha256(text)),
          },
        };
        yield { content: { case: "chunk", value: new TextEncoder().encode(text) } };
      },
    }),
  );
  return createClient(TrackingService, transport);
}

function file(path: string, text: string, hash = sha256(text)): FileInfo {
  return create(FileInfoSchema, { path, isDir: false, fileSize: BigInt(text.length), sha256: hash });
}

function directory(path: string): FileInfo {
  return create(FileInfoSchema, { path, isDir: true });
}

async function rejection(promise: Promise<unknown>): Promise<MlpipeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof MlpipeError)) throw new Error(`expected an MlpipeError, got ${String(err)}`);
  return err;
}

describe("checkArtifactPath", () => {
  it("accepts relative paths, drops a trailing slash and keeps the root", () => {
    expect(checkArtifactPath("model/model.onnx", "path")).toBe("model/model.onnx");
    expect(checkArtifactPath("model/", "path")).toBe("model");
    expect(checkArtifactPath("", "path")).toBe("");
  });

  it("refuses paths that could leave the destination, naming the field", () => {
    const cases: [string, RegExp][] = [
      ["../etc", /invalid <path>: must not contain a `\.\.` segment/],
      ["model/../../x", /must not contain a `\.\.` segment/],
      ["./model", /must not contain a `\.` segment/],
      ["/etc/passwd", /must be relative, not start with `\/`/],
      ["/", /must be relative/],
      ["a//b", /must not contain empty segments/],
      ["a\\..\\b", /must use `\/` as separator/],
    ];
    for (const [path, message] of cases) {
      expect(() => checkArtifactPath(path, "<path>"), path).toThrow(message);
    }
  });
});

describe("downloadArtifactDir against a misbehaving server", () => {
  it("refuses a listing that escapes the directory and writes nothing", async () => {
    const listings: Record<string, readonly FileInfo[]>[] = [
      { model: [file("model/ok.txt", "ok"), file("model/../../escape.txt", "x")] },
      { model: [file("model/ok.txt", "ok"), file("other/file.txt", "x")] },
      { model: [file("/etc/passwd", "x")] },
      { model: [directory("model/sub")], "model/sub": [file("model/sub/..", "x")] },
      { model: [file("model/a\\..\\..\\b", "x")] },
      { model: [directory("model")] },
    ];
    for (const [i, listing] of listings.entries()) {
      const dest = join(dir, `escape-${i}`);
      const err = await rejection(downloadArtifactDir(fakeTracking(listing), runId, "model", dest));
      expect(err.id, `listing ${i}`).toBe("SDK_ARTIFACT_PATH_UNSAFE");
      expect(err.message).toMatch(/which would be written outside the destination; refused$/);
      await expect(readdir(dest)).rejects.toThrow(/ENOENT/);
    }
    await expect(readdir(join(dir, ".."))).resolves.not.toContain("escape.txt");
  });

  it("deletes a file whose content does not match the announced SHA-256 and stops", async () => {
    const tracking = fakeTracking(
      { model: [file("model/a.txt", "aaa"), file("model/b.txt", "bbb")] },
      { "model/a.txt": "aaa", "model/b.txt": "bbb" },
      { "model/a.txt": sha256("not what was sent") },
    );
    const dest = join(dir, "corrupt");
    const err = await rejection(downloadArtifactDir(tracking, runId, "model", dest));
    expect(err.id).toBe("SDK_DOWNLOAD_CHECKSUM_MISMATCH");
    expect(err.message).toMatch(/^downloaded "model\/a\.txt" has sha256 [0-9a-f]{64}, the server announced/);
    expect(await readdir(dest)).toEqual([]);
  });

  it("refuses a destination that is a file, and an empty directory of the run", async () => {
    const tracking = fakeTracking({ model: [file("model/a.txt", "a")] }, { "model/a.txt": "a" });
    const blocker = join(dir, "blocker");
    await writeFile(blocker, "in the way");
    const notDir = await rejection(downloadArtifactDir(tracking, runId, "model", blocker));
    expect(notDir.message).toBe(`invalid localDir: "${blocker}" exists and is not a directory`);
    const empty = await rejection(downloadArtifactDir(tracking, runId, "nothing-here", join(dir, "empty")));
    expect(empty.id).toBe("SDK_ARTIFACT_NOT_FOUND");
    expect(empty.message).toBe(`run ${runId} has no artifact directory "nothing-here"`);
  });

  it("walks nested directories and reports progress over every file's bytes", async () => {
    const tracking = fakeTracking(
      {
        "": [directory("model"), file("notes.txt", "n")],
        model: [directory("model/sub"), file("model/m.onnx", "mmmm")],
        "model/sub": [file("model/sub/w.bin", "ww")],
      },
      { "notes.txt": "n", "model/m.onnx": "mmmm", "model/sub/w.bin": "ww" },
    );
    expect((await listArtifactFiles(tracking, runId, "")).map((f) => f.path)).toEqual([
      "model/m.onnx",
      "model/sub/w.bin",
      "notes.txt",
    ]);
    const progress: [number, number | undefined][] = [];
    const files = await downloadArtifactDir(tracking, runId, "model/", join(dir, "nested"), {
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(files.map((f) => f.path)).toEqual(["model/m.onnx", "model/sub/w.bin"]);
    expect(progress.at(-1)).toEqual([6, 6]);
    expect(progress.every(([, total]) => total === 6)).toBe(true);
    expect((await readdir(join(dir, "nested"), { recursive: true })).sort()).toEqual(["m.onnx", "sub", "sub/w.bin"]);
  });
});

describe("downloadArtifactFile against a misbehaving server", () => {
  it("leaves no file when the content does not match the announced SHA-256", async () => {
    const tracking = fakeTracking({}, { "m.onnx": "bytes" }, { "m.onnx": sha256("other bytes") });
    const target = join(dir, "single", "m.onnx");
    const err = await rejection(downloadArtifactFile(tracking, runId, "m.onnx", target));
    expect(err.id).toBe("SDK_DOWNLOAD_CHECKSUM_MISMATCH");
    expect(await readdir(join(dir, "single"))).toEqual([]);
  });
});
