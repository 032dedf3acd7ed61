import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RunSchema } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { allParams, differingParams, parallelData } from "./run-comparison.js";

const run = (id: string, params: Record<string, string>, accuracy?: number) =>
  create(RunSchema, {
    info: { runId: id, runName: `run-${id}` },
    data: { params, metrics: accuracy === undefined ? [] : [{ key: "accuracy", value: accuracy }] },
  });

const runs = [
  run("a", { lr: "0.1", optimizer: "sgd", seed: "1" }, 0.9),
  run("b", { lr: "0.5", optimizer: "adam", seed: "1" }, 0.95),
  run("c", { lr: "1e-3", seed: "1", extra: "x" }),
];

describe("run comparison", () => {
  it("lists the params that differ, a param missing from a run included", () => {
    expect(differingParams(runs)).toEqual(["extra", "lr", "optimizer"]);
    expect(allParams(runs)).toEqual(["extra", "lr", "optimizer", "seed"]);
  });

  it("makes numeric axes for numbers, category axes otherwise, and the metric last", () => {
    const data = parallelData(runs, ["lr", "optimizer"], "accuracy");
    expect(data.axes).toEqual([
      { name: "lr", type: "value" },
      { name: "optimizer", type: "category", categories: ["adam", "sgd"] },
      { name: "accuracy", type: "value" },
    ]);
    expect(data.lines.map((l) => l.values)).toEqual([
      [0.1, "sgd", 0.9],
      [0.5, "adam", 0.95],
      [0.001, null, null],
    ]);
  });
});
