/** `mlpipe predict --features 5.1,3.5,1.4,0.2`: one prediction from the inference server. */
import { createClient } from "@connectrpc/connect";
import { commonErrors } from "../../core/errors/common-errors.js";
import { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createClientTransport } from "../../sdk/index.js";
import type { Command } from "../command.js";
import { formatMetric } from "../display-values.js";
import { writeJson } from "../output.js";

/** The `predict` command. */
export const predictCommand: Command = {
  name: "predict",
  section: "Inference",
  summary: "predict one row with the inference server",
  arguments: [],
  options: {
    features: { type: "string", valueName: "X1,X2,...", description: "the row's features, comma-separated (required)" },
    url: { type: "string", valueName: "URL", description: "inference server (overrides --inference-url)" },
    "model-version": { type: "string", valueName: "V", description: "version, stage or alias that must answer" },
  },
  examples: [
    "predict --features 5.1,3.5,1.4,0.2",
    "predict --features 6.7,3.0,5.2,2.3 --url http://server:8000 --json",
  ],
  async run({ io, args, json, inferenceUrl }) {
    const features = parseFeatures(args.string("features"));
    const client = createClient(InferenceService, createClientTransport({ url: inferenceUrl() }));
    const r = await client.predict({ features, modelVersion: args.string("model-version") ?? "" });
    const p = r.prediction;
    if (json) {
      writeJson(io, {
        prediction: p?.prediction,
        ...(p?.probability === undefined ? {} : { probability: p.probability, probabilities: p.probabilities }),
        modelVersion: r.modelVersion,
        latencyMs: r.latencyMs,
      });
      return undefined;
    }
    const value = p?.prediction === undefined ? "-" : formatMetric(p.prediction);
    const probability = p?.probability === undefined ? "" : ` (probability ${p.probability.toFixed(4)})`;
    io.stdout.write(`prediction ${value}${probability}, model version ${r.modelVersion}\n`);
    return undefined;
  },
};

function parseFeatures(text: string | undefined): number[] {
  if (text === undefined) throw commonErrors.invalidArgument("--features", "required, e.g. --features 5.1,3.5,1.4,0.2");
  const parts = text.split(",").map((s) => s.trim());
  return parts.map((part, i) => {
    const n = Number(part);
    if (part === "" || !Number.isFinite(n)) {
      throw commonErrors.invalidArgument("--features", `value ${i + 1} ("${part}") is not a finite number`);
    }
    return n;
  });
}
