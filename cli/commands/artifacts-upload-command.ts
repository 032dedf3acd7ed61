/** `mlpipe artifacts upload <run_id> <path> <local>`. */
import { resolve } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { FileInfoSchema } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { uploadWithProgress } from "../artifact-transfer.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatBytes } from "../display-values.js";
import { writeJson } from "../output.js";

/** The `artifacts upload` command. */
export const artifactsUploadCommand: Command = {
  name: "artifacts upload",
  section: "Tracking",
  summary: "upload a local file as an artifact of a run (progress on a terminal)",
  details: "The server checks the SHA-256 the CLI computed first and stores nothing if the bytes differ.",
  arguments: [
    { name: "run_id", description: "the run" },
    { name: "path", description: "artifact path in the run, e.g. model/model.onnx" },
    { name: "local", description: "the local file to upload" },
  ],
  options: {},
  examples: ["artifacts upload 0f3c...e2 data/train.csv ./train.csv"],
  async run({ io, args, json, registryUrl }) {
    const [runId = "", path = "", local = ""] = args.positionals;
    const client = createCliClient(registryUrl(), io.env);
    const file = await uploadWithProgress(client.tracking, runId, resolve(io.cwd, local), path, io.stderr);
    if (json) writeJson(io, { file: toJson(FileInfoSchema, file) });
    else io.stdout.write(`uploaded ${file.path} (${formatBytes(file.fileSize)}, sha256 ${file.sha256})\n`);
    return undefined;
  },
};
