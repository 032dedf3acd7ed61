import { readdirSync } from "node:fs";
import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { currentThreadId, lowestPriority, setThreadNiceness } from "./thread-priority.js";

describe.runIf(currentThreadId() !== undefined)("thread priority (Linux)", () => {
  it("names the calling thread among the process's threads", () => {
    const tid = currentThreadId() as number;
    expect(readdirSync("/proc/self/task").map(Number)).toContain(tid);
  });

  it("keeps the thread's nice value when the one asked for is refused, and says what it is", () => {
    const tid = currentThreadId() as number;
    const before = getPriority(tid);
    // Out of -20..19: setpriority refuses it, and nothing changes.
    expect(setThreadNiceness(lowestPriority + 100)).toBe(before);
    expect(getPriority(tid)).toBe(before);
    // Asking for what it already has changes nothing either.
    expect(setThreadNiceness(before)).toBe(before);
  });
});
