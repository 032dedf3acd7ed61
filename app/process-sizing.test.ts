import { describe, expect, it } from "vitest";
import { sizeProcesses } from "./process-sizing.js";

describe("sizeProcesses", () => {
  it("runs one process per core by default, splitting the worker threads but not the admission limit", () => {
    const s = sizeProcesses({ cores: 4, maxBatchSize: 64 });
    expect(s.processes).toBe(4);
    expect(s.threads.workers).toBe(4);
    expect(s.workersPerProcess).toBe(1);
    // 2 full batches per worker thread of the server, in each process: one HTTP/2 connection (one
    // gRPC channel) reaches one process and must be admitted as a single process would admit it.
    expect(s.maxInFlightPerProcess).toBe(2 * 4 * 64);
  });

  it("keeps a single process when asked for one, with every thread and the whole limit", () => {
    const s = sizeProcesses({ cores: 4, httpWorkers: 1, workers: 3, maxBatchSize: 8, maxInFlightRequests: 100 });
    expect(s).toMatchObject({ processes: 1, workersPerProcess: 3, maxInFlightPerProcess: 100 });
  });

  it("gives every process at least one worker thread and the configured limit", () => {
    const s = sizeProcesses({ cores: 2, httpWorkers: 3, maxBatchSize: 64, maxInFlightRequests: 10 });
    expect(s.workersPerProcess).toBe(1);
    expect(s.maxInFlightPerProcess).toBe(10);
  });

  it("splits threads that intra-op threads already limited", () => {
    const s = sizeProcesses({ cores: 8, httpWorkers: 2, intraOpThreads: 2, maxBatchSize: 64 });
    expect(s.threads.workers).toBe(4);
    expect(s.workersPerProcess).toBe(2);
  });

  it("runs batches on each process's event loop with INFERENCE_WORKERS=0, admitting what the cores' threads would", () => {
    const s = sizeProcesses({ cores: 4, httpWorkers: 2, workers: 0, intraOpThreads: 2, maxBatchSize: 64 });
    expect(s).toMatchObject({ processes: 2, inline: true, workersPerProcess: 1, maxInFlightPerProcess: 2 * 4 * 64 });
    // intra-op threads are not used inline: the request was lowered to 1
    expect(s.threads).toMatchObject({ intraOpThreads: 1, clamped: true });
    expect(sizeProcesses({ cores: 4, maxBatchSize: 64 }).inline).toBe(false);
  });
});
