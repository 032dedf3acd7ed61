/** `mlpipe register <model> <file.onnx>`: a local ONNX file becomes a new version of a model. */
import { basename, resolve } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { ModelVersionSchema } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { localFileSize, uploadWithProgress } from "../artifact-transfer.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { writeJson } from "../output.js";
import { parseStage } from "../registry-arguments.js";

/** Where the file goes among the run's artifacts (as training/ puts its models). */
const modelArtifactPath = "model/model.onnx";

/** The `register` command. */
export const registerCommand: Command = {
  name: "register",
  section: "Model registry",
  summary: "upload a local ONNX file into a new run and register it as a new version of a model",
  details: [
    "Creates a run (in --experiment, default the server's Default experiment), uploads the file as",
    `its artifact ${modelArtifactPath} (progress on a terminal), ends the run and registers the`,
    "artifact as a new version, creating the model if needed. The registry checks that onnxruntime",
    "can load the file; a file it refuses fails here with the reason. --stage then moves the new",
    "version, archiving the versions already in Staging or Production.",
  ].join("\n"),
  arguments: [
    { name: "model", description: "registered model name (created when missing)" },
    { name: "file.onnx", description: "the local ONNX model file" },
  ],
  options: {
    experiment: { type: "string", valueName: "NAME", description: "experiment of the run (created when missing)" },
    "run-name": { type: "string", valueName: "NAME", description: "name of the run (default: generated)" },
    description: { type: "string", valueName: "TEXT", description: "description of the version" },
    stage: { type: "string", valueName: "STAGE", description: "move the new version to this stage" },
  },
  examples: ["register iris-classifier model.onnx", "register fraud model.onnx --experiment fraud --stage Staging"],
  async run({ io, args, json, registryUrl }) {
    const [name = "", fileArg = ""] = args.positionals;
    const file = resolve(io.cwd, fileArg);
    const stageText = args.string("stage");
    const stage = stageText === undefined ? undefined : parseStage(stageText, "--stage");
    await localFileSize(file, "<file.onnx>");
    const client = createCliClient(registryUrl(), io.env);
    const experiment = args.string("experiment");
    const runName = args.string("run-name");
    const run = await client.startRun({
      ...(experiment === undefined ? {} : { experiment }),
      ...(runName === undefined ? {} : { runName }),
      tags: { "mlpipe.source": "mlpipe register", "mlpipe.file": basename(file) },
    });
    try {
      await uploadWithProgress(client.tracking, run.runId, file, modelArtifactPath, io.stderr);
    } catch (err) {
      await run.end("FAILED").catch(() => {});
      throw err;
    }
    await run.end("FINISHED");
    const description = args.string("description");
    let version = await client.registerModel(name, run.artifactSource(modelArtifactPath), {
      ...(description === undefined ? {} : { description }),
      tags: { run_id: run.runId },
    });
    if (stage !== undefined) {
      version = await client.setStage(name, version.version, stage, { archiveExistingVersions: true });
    }
    if (json) {
      writeJson(io, { runId: run.runId, modelVersion: toJson(ModelVersionSchema, version) });
    } else {
      const where = stage === undefined ? "" : `, now in ${stage}`;
      io.stdout.write(`registered ${name} version ${version.version} from run ${run.runId}${where}\n`);
    }
    return undefined;
  },
};
