/**
 * The piscina worker of the inference engine: one session runner (session-runner.ts) per thread,
 * told by the pool's broadcast channel which models to release, returning outputs in transferred
 * buffers.
 */
import { BroadcastChannel } from "node:worker_threads";
import { Piscina, transferableSymbol, valueSymbol } from "piscina";
import { createSessionRunner } from "./session-runner.js";
import { setThreadNiceness } from "./thread-priority.js";
import type { UnloadMessage, WorkerReply, WorkerSettings, WorkerTask } from "./worker-protocol.js";

function readSettings(data: unknown): WorkerSettings {
  const d = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  return {
    intraOpThreads: typeof d.intraOpThreads === "number" ? d.intraOpThreads : 1,
    handlerModule: typeof d.handlerModule === "string" ? d.handlerModule : undefined,
    channel: typeof d.channel === "string" ? d.channel : "mlpipe-inference",
    niceness: typeof d.niceness === "number" ? d.niceness : undefined,
  };
}

const settings = readSettings(Piscina.workerData);
// Before any session exists: onnxruntime's threads inherit the priority of the thread that starts them.
if (settings.niceness !== undefined) setThreadNiceness(settings.niceness);
const runner = createSessionRunner(settings);

const channel = new BroadcastChannel(settings.channel);
channel.onmessage = (event: unknown) => {
  const msg = (event as { data?: Partial<UnloadMessage> }).data;
  if (msg?.kind === "unload" && typeof msg.key === "string") runner.unload(msg.key);
};
channel.unref();

/** A reply whose output buffers piscina transfers instead of copying. */
function transferable(reply: WorkerReply): unknown {
  const buffers = reply.ok ? reply.outputs.map((o) => o.data) : [];
  return Piscina.move({
    get [transferableSymbol]() {
      return [...new Set(buffers)];
    },
    get [valueSymbol]() {
      return reply;
    },
  });
}

/** Runs one task; never throws: failures come back as ErrorData with a `detail` for the server log. */
export default async function handle(task: WorkerTask): Promise<unknown> {
  return transferable(await runner.run(task));
}
