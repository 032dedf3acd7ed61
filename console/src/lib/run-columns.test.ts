import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RunSchema } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { cellValue, collectKeys, columnId, defaultColumns, orderByClause, parseColumnId } from "./run-columns.js";

const runs = [
  create(RunSchema, {
    data: {
      metrics: [
        { key: "loss", value: 0.5 },
        { key: "val loss", value: 0.7 },
      ],
      params: { lr: "0.1" },
      tags: { team: "a", "mlflow.user": "x" },
    },
  }),
  create(RunSchema, { data: { metrics: [{ key: "accuracy", value: 0.9 }], params: { epochs: "10", lr: "0.2" } } }),
];

describe("run columns", () => {
  it("collects every key of a page, sorted, without system tags", () => {
    expect(collectKeys(runs)).toEqual({
      metrics: ["accuracy", "loss", "val loss"],
      params: ["epochs", "lr"],
      tags: ["team"],
    });
    expect(defaultColumns(collectKeys(runs), 2).map(columnId)).toEqual([
      "metrics.accuracy",
      "metrics.loss",
      "params.epochs",
      "params.lr",
    ]);
  });

  it("round-trips column ids, keys with dots included, and rejects others", () => {
    expect(parseColumnId("tags.mlflow.note")).toEqual({ kind: "tags", key: "mlflow.note" });
    expect(parseColumnId("metrics.val loss")).toEqual({ kind: "metrics", key: "val loss" });
    expect(parseColumnId("attributes.x")).toBeUndefined();
    expect(parseColumnId("metrics.")).toBeUndefined();
  });

  it("quotes keys in order_by clauses", () => {
    expect(orderByClause({ kind: "metrics", key: "val loss" }, true)).toBe("metrics.`val loss` DESC");
    expect(orderByClause("start_time", false)).toBe("start_time ASC");
  });

  it("reads a run's cell values", () => {
    const [first] = runs;
    if (first === undefined) throw new Error("no run");
    expect(cellValue(first, { kind: "metrics", key: "val loss" })).toBe(0.7);
    expect(cellValue(first, { kind: "params", key: "lr" })).toBe("0.1");
    expect(cellValue(first, { kind: "params", key: "epochs" })).toBeUndefined();
  });
});
