/**
 * onnxruntime-node as mlpipe's modules load it: with its usage telemetry off.
 *
 * onnxruntime-node 1.29+ sets up usage telemetry on Linux and macOS too (a device id, an event
 * cache under ~/.cache/Microsoft, uploads to Microsoft, an empty /tmp/mat-debug-<pid>.log) at its
 * first session unless ORT_DISABLE_TELEMETRY is set before. A server must not call out: off
 * unless the user set the variable themselves. Importing onnxruntime through this module sets it
 * in every process that runs a session (the servers, the registry's model check, the bench's
 * baselines and servers), whatever started the process.
 */
import * as ort from "onnxruntime-node";

process.env.ORT_DISABLE_TELEMETRY ??= "1";

export { ort };
