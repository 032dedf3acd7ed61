import { describe, expect, it } from "vitest";
import type { CliOutput } from "./cli-io.js";
import { createProgressBar } from "./progress-bar.js";

function stream(isTTY: boolean): CliOutput & { text: string } {
  const s = {
    text: "",
    isTTY,
    write(t: string) {
      s.text += t;
    },
  };
  return s;
}

describe("createProgressBar", () => {
  it("draws nothing when stderr is not a terminal", () => {
    const s = stream(false);
    const bar = createProgressBar({ stream: s, label: "uploading x", total: 100 });
    bar.update(50);
    bar.finish();
    expect(s.text).toBe("");
  });

  it("redraws at most every 100 ms, and the final state at the end", () => {
    const s = stream(true);
    let now = 0;
    const bar = createProgressBar({ stream: s, label: "up", total: 2048, now: () => now });
    bar.update(512);
    bar.update(1024); // within 100 ms of the first draw: skipped
    now = 150;
    bar.update(1536);
    bar.finish();
    const frames = s.text.split("\r\x1b[2K").filter((f) => f !== "");
    expect(frames).toEqual([
      "up [######..................]  25%  512 B / 2.0 KiB",
      "up [##################......]  75%  1.5 KiB / 2.0 KiB",
      "up [##################......]  75%  1.5 KiB / 2.0 KiB\n",
    ]);
  });
});
