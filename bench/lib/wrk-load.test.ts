import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWithTools, wrkTool } from "../../test/support/system-tools.js";
import { childCpuTicks, wrkClosedLoop } from "./wrk-load.js";

describe("childCpuTicks", () => {
  it("reads cutime + cstime after the last ')' of the command name", () => {
    // pid, comm with spaces and ')', then fields 3..: cutime (16) = 7, cstime (17) = 5.
    const stat = "4242 (wrk ) (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 3 2 7 5 20 0 1 0 12345 0 0";
    expect(childCpuTicks(stat)).toBe(12);
  });

  it("is undefined for a line that is not a stat line", () => {
    expect(childCpuTicks("")).toBeUndefined();
    expect(childCpuTicks("4242 (bash) S 1 2")).toBeUndefined();
  });
});

describeWithTools("wrkClosedLoop", [wrkTool], () => {
  const bodiesSeen = new Map<string, number>();
  let answered = 0;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.once("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        bodiesSeen.set(body, (bodiesSeen.get(body) ?? 0) + 1);
        answered++;
        res.writeHead(body.includes('"ok"') ? 200 : 500, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("cycles the bodies, counts statuses above 399 as http_error and calls the window hooks around the measured run", async () => {
    const hooks: string[] = [];
    let answeredAtOpen = 0;
    let answeredAtClose = 0;
    const result = await wrkClosedLoop({
      url,
      bodies: ['{"ok":1}', '{"bad":1}'],
      concurrency: 2,
      warmupSeconds: 0.5,
      durationSeconds: 1,
      window: {
        async opened() {
          hooks.push("opened");
          answeredAtOpen = answered;
        },
        async closed() {
          hooks.push("closed");
          answeredAtClose = answered;
        },
      },
    });

    expect(hooks).toEqual(["opened", "closed"]);
    // The warm-up ran before the window opened, and the measured run counted only answers the
    // server gave inside the window.
    expect(answeredAtOpen).toBeGreaterThan(0);
    const failed = result.errors.http_error ?? 0;
    const requests = result.ok + failed;
    expect(requests).toBeLessThanOrEqual(answeredAtClose - answeredAtOpen);

    expect(result.mode).toBe("closed");
    expect(result.concurrency).toBe(2);
    expect(result.ok).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    expect(failed / requests).toBeGreaterThan(0.3);
    expect(failed / requests).toBeLessThan(0.7);
    expect(Object.keys(result.errors)).toEqual(["http_error"]);
    expect(bodiesSeen.get('{"ok":1}')).toBeGreaterThan(0);
    expect(bodiesSeen.get('{"bad":1}')).toBeGreaterThan(0);
    expect([...bodiesSeen.keys()].sort()).toEqual(['{"bad":1}', '{"ok":1}']);

    expect(result.latencyMs.count).toBe(requests);
    expect(result.latencyMs.p50).toBeGreaterThan(0);
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
    expect(result.latencyMs.max).toBeGreaterThanOrEqual(result.latencyMs.p99);
    expect(result.errorLatencyMs.count).toBe(0);
    expect(result.throughput).toBeCloseTo(result.ok / result.seconds);
    expect(result.generatorCpuCores).toBeGreaterThan(0);
  });

  it("rejects with wrk's error when wrk fails, and calls no window hook", async () => {
    const hooks: string[] = [];
    const window = {
      async opened() {
        hooks.push("opened");
      },
      async closed() {
        hooks.push("closed");
      },
    };
    await expect(
      wrkClosedLoop({
        url: "http://127.0.0.1:1/predict",
        bodies: ['{"ok":1}'],
        concurrency: 1,
        warmupSeconds: 0.5,
        durationSeconds: 1,
        window,
      }),
    ).rejects.toThrow(/unable to connect/);
    expect(hooks).toEqual([]);
  });
});
