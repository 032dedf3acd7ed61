import { describe, expect, it } from "vitest";
import { rejects } from "../../test/support/expect-invalid-argument.js";
import { validateModelTag, validateModelTags, validateTagMap } from "./tags.js";
import { validateParamValue, validateTagValue } from "./values.js";

describe("values", () => {
  it("caps param values at 6000 and tag values at 8000 characters", () => {
    expect(validateParamValue("v".repeat(6000), "value")).toHaveLength(6000);
    expect(validateParamValue("", "value")).toBe("");
    rejects(() => validateParamValue("v".repeat(6001), "params[0].value"), "params[0].value");
    expect(validateTagValue("v".repeat(8000), "value")).toHaveLength(8000);
    rejects(() => validateTagValue("v".repeat(8001), "value"), "value");
  });

  it("validates experiment tag maps by key", () => {
    expect(validateTagMap({ team: "ml" }, "tags")).toEqual({ team: "ml" });
    rejects(() => validateTagMap({ "bad!": "x" }, "tags"), 'tags["bad!"].key');
    rejects(() => validateTagMap({ ok: "v".repeat(8001) }, "tags"), 'tags["ok"].value');
  });
});

describe("registry tags", () => {
  it("caps values at 5000 characters and a request at 100 tags", () => {
    validateModelTag("k", "v".repeat(5000));
    rejects(() => validateModelTag("k", "v".repeat(5001)), "value");
    rejects(() => validateModelTag("k", "a\u0000b"), "value");
    validateModelTags(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, "v"])));
    rejects(() => validateModelTags(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, "v"]))), "tags");
    rejects(() => validateModelTags({ ok: "v".repeat(5001) }), 'tags["ok"].value');
  });

  it("checks a rollout's parameters and refuses the rollout status, which only the controller writes", () => {
    validateModelTag("mlpipe.rollout", "champion=champion,challenger=challenger,step=20");
    rejects(() => validateModelTag("mlpipe.rollout", "champion=champion"), "value");
    rejects(() => validateModelTag("mlpipe.rollout_status", '{"state":"succeeded"}'), "key");
    rejects(() => validateModelTags({ "mlpipe.rollout_status": "{}" }), 'tags["mlpipe.rollout_status"]');
  });
});
