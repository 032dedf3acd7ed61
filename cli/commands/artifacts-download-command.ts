/** `mlpipe artifacts download <run_id> <path> <local>`. */
import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { FileInfoSchema } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { downloadWithProgress } from "../artifact-transfer.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatBytes } from "../display-values.js";
import { writeJson } from "../output.js";

/** The `artifacts download` command. */
export const artifactsDownloadCommand: Command = {
  name: "artifacts download",
  section: "Tracking",
  summary: "download an artifact file of a run (progress on a terminal)",
  details: [
    "<local> is the file to write, or an existing directory to write <path>'s file name into.",
    "The file appears only once complete and matching the server's SHA-256.",
  ].join("\n"),
  arguments: [
    { name: "run_id", description: "the run" },
    { name: "path", description: "artifact file path in the run, e.g. model/model.onnx" },
    { name: "local", description: "where to write it" },
  ],
  options: {},
  examples: ["artifacts download 0f3c...e2 model/model.onnx ./model.onnx"],
  async run({ io, args, json, registryUrl }) {
    const [runId = "", path = "", local = ""] = args.positionals;
    let target = resolve(io.cwd, local);
    const existing = await stat(target).catch(() => undefined);
    // An existing directory, or a path ending in "/", receives the file under its own name.
    if (existing?.isDirectory() === true || /[/\\]$/.test(local)) target = join(target, basename(path));
    const client = createCliClient(registryUrl());
    const file = await downloadWithProgress(client.tracking, runId, path, target, io.stderr);
    if (json) writeJson(io, { file: toJson(FileInfoSchema, file), local: target });
    else io.stdout.write(`downloaded ${file.path} to ${target} (${formatBytes(file.fileSize)})\n`);
    return undefined;
  },
};
