import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  type ReportTrafficStatsRequest,
  ReportTrafficStatsRequestSchema,
  VersionTrafficStatsSchema,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { validateTrafficReport } from "./traffic-report.js";

function request(
  version: Partial<Parameters<typeof create<typeof VersionTrafficStatsSchema>>[1]> = {},
  replicaId = "host:1",
) {
  return create(ReportTrafficStatsRequestSchema, {
    name: "m",
    replicaId,
    versions: [
      create(VersionTrafficStatsSchema, {
        version: 2n,
        requests: 10n,
        errors: 1n,
        latencyBoundsMs: [1, 5],
        latencyCounts: [4, 4, 1n].map((c) => BigInt(c)),
        ...version,
      }),
    ],
  });
}

function problem(req: ReportTrafficStatsRequest): unknown {
  try {
    validateTrafficReport(req);
    return undefined;
  } catch (err) {
    return err;
  }
}

describe("validateTrafficReport", () => {
  it("reads a report's counts as numbers", () => {
    expect(validateTrafficReport(request())).toEqual({
      name: "m",
      replicaId: "host:1",
      versions: [{ version: 2n, requests: 10, errors: 1, latency: { boundsMs: [1, 5], counts: [4, 4, 1] } }],
    });
  });

  it.each([
    ["replica_id", request({}, "")],
    ["replica_id", request({}, "a\nb")],
    ["versions[0].version", request({ version: 0n })],
    ["versions[0].errors", request({ errors: 11n })],
    ["versions[0].requests", request({ requests: 2n ** 60n })],
    ["versions[0].latency_bounds_ms", request({ latencyBoundsMs: [5, 1] })],
    ["versions[0].latency_bounds_ms", request({ latencyBoundsMs: [Number.NaN, 1] })],
    ["versions[0].latency_counts", request({ latencyCounts: [1n] })],
    ["versions[0].latency_counts", request({ latencyCounts: [5n, 5n, 0n] })],
  ])("refuses a bad %s", (field, req) => {
    expect(problem(req)).toMatchObject({ id: "INVALID_ARGUMENT", field });
  });
});
