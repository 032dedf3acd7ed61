/**
 * Baseline "naive Node server": what one would write first. node:http, JSON POST /predict, one
 * onnxruntime-node run per request on the main thread: no worker pool, no batching, no limits.
 * It answers the same JSON as mlpipe's /predict for the same model.
 *
 * `tsx bench/baselines/naive-node-server.ts --port N --model file.onnx`
 */
import http from "node:http";
import { parseArgs } from "node:util";
import { ort } from "../../core/onnx/onnxruntime.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, model: { type: "string" } } });
if (values.model === undefined) throw new Error("--model is required");
const session = await ort.InferenceSession.create(values.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.once("end", () => {
    const started = performance.now();
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.url !== "/predict" || req.method !== "POST") {
      reply(404, { error: "not found" });
      return;
    }
    let features: unknown;
    try {
      features = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { features?: unknown }).features;
    } catch {
      reply(400, { error: "malformed JSON" });
      return;
    }
    if (!Array.isArray(features) || features.length !== 4 || features.some((f) => typeof f !== "number")) {
      reply(400, { error: "features must be 4 numbers" });
      return;
    }
    const input = new ort.Tensor("float32", Float32Array.from(features as number[]), [1, 4]);
    session.run({ features: input }).then(
      (out) => {
        const label = out.label?.data;
        const probabilities = out.probabilities?.data;
        const prediction = label instanceof BigInt64Array ? Number(label[0]) : 0;
        const probability = probabilities instanceof Float32Array ? (probabilities[prediction] ?? 0) : 0;
        reply(200, { prediction, probability, model_version: "1", latency_ms: performance.now() - started });
      },
      (err: unknown) => reply(500, { error: String(err) }),
    );
  });
});
server.listen(Number(values.port), "127.0.0.1", () => {
  process.stdout.write("naive node server listening\n");
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
