/** `mlpipe artifacts download <run_id> <path> <local>`: one artifact file, or a directory of them. */
import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { commonErrors } from "../../core/errors/common-errors.js";
import { sdkErrors } from "../../core/errors/sdk-errors.js";
import { FileInfoSchema } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { checkArtifactPath, statArtifact } from "../../sdk/index.js";
import { downloadDirWithProgress, downloadWithProgress } from "../artifact-transfer.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatBytes } from "../display-values.js";
import { writeJson } from "../output.js";

/** The `artifacts download` command. */
export const artifactsDownloadCommand: Command = {
  name: "artifacts download",
  section: "Tracking",
  summary: "download an artifact file or directory of a run (progress on a terminal)",
  details: [
    "For a file, <local> is the file to write, or an existing directory to write <path>'s file name into.",
    "For a directory (`.` for all of the run's artifacts), <local> is the directory to write every file",
    "under <path> into, recursively, keeping their layout below <path>; it is created when missing and",
    "files already there with the same names are replaced.",
    "Each file appears only once complete and matching the server's SHA-256. A path that is neither a",
    "file nor a directory of the run is not_found (exit code 1).",
  ].join("\n"),
  arguments: [
    { name: "run_id", description: "the run" },
    { name: "path", description: "artifact file or directory in the run, e.g. model/model.onnx or model" },
    { name: "local", description: "where to write it" },
  ],
  options: {},
  examples: [
    "artifacts download 0f3c...e2 model/model.onnx ./model.onnx",
    "artifacts download 0f3c...e2 model ./iris-model",
    "artifacts download 0f3c...e2 . ./all-artifacts",
  ],
  async run({ io, args, json, registryUrl }) {
    const [runId = "", rawPath = "", local = ""] = args.positionals;
    const path = rawPath === "." || rawPath === "./" ? "" : checkArtifactPath(rawPath, "<path>");
    const client = createCliClient(registryUrl(), io.env);
    const found = await statArtifact(client.tracking, runId, path);
    if (found === undefined) throw sdkErrors.artifactNotFound(runId, rawPath, "file or directory");

    if (found.isDir) {
      const target = resolve(io.cwd, local);
      if ((await stat(target).catch(() => undefined))?.isDirectory() === false) {
        throw commonErrors.invalidArgument(
          "<local>",
          `"${local}" exists and is not a directory; ${rawPath} is a directory`,
        );
      }
      const files = await downloadDirWithProgress(client.tracking, runId, path, target, io.stderr);
      if (json) writeJson(io, { files: files.map((f) => toJson(FileInfoSchema, f)), local: target });
      else {
        const bytes = files.reduce((sum, f) => sum + f.fileSize, 0n);
        const what = path === "" ? "all artifacts" : `${path}/`;
        const count = `${files.length} file${files.length === 1 ? "" : "s"}`;
        io.stdout.write(`downloaded ${what} (${count}, ${formatBytes(bytes)}) to ${target}\n`);
      }
      return undefined;
    }

    let target = resolve(io.cwd, local);
    const existing = await stat(target).catch(() => undefined);
    // An existing directory, or a path ending in "/", receives the file under its own name.
    if (existing?.isDirectory() === true || /[/\\]$/.test(local)) target = join(target, basename(path));
    const file = await downloadWithProgress(client.tracking, runId, path, target, io.stderr);
    if (json) writeJson(io, { file: toJson(FileInfoSchema, file), local: target });
    else io.stdout.write(`downloaded ${file.path} to ${target} (${formatBytes(file.fileSize)})\n`);
    return undefined;
  },
};
