import { describe, expect, it } from "vitest";
import { isLoopback } from "./loopback.js";

describe("isLoopback", () => {
  it("is true only for addresses that accept local connections alone", () => {
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "::1"]) expect(isLoopback(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "registry", "192.168.1.2"]) expect(isLoopback(host)).toBe(false);
  });
});
