import { describe, expect, it } from "vitest";
import { actorFrom } from "./actor.js";

describe("the actor header", () => {
  it("trims, defaults to anonymous and refuses control characters", () => {
    expect(actorFrom(null)).toBe("anonymous");
    expect(actorFrom("  ")).toBe("anonymous");
    expect(actorFrom(" alice ")).toBe("alice");
    expect(() => actorFrom("a\u0001b")).toThrow(expect.objectContaining({ field: "mlpipe-actor" }));
    expect(() => actorFrom("a".repeat(257))).toThrow(expect.objectContaining({ field: "mlpipe-actor" }));
  });
});
