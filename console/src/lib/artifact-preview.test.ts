import { describe, expect, it } from "vitest";
import { formatBytes, imageType, previewKind } from "./artifact-preview.js";

describe("artifact previews", () => {
  it("chooses a preview by file name", () => {
    expect(previewKind("model/MLmodel")).toBe("text");
    expect(previewKind("metrics/summary.JSON")).toBe("json");
    expect(previewKind("plots/loss.png")).toBe("image");
    expect(previewKind("model/model.onnx")).toBe("none");
    expect(previewKind("README")).toBe("none");
    expect(imageType("a/b.svg")).toBe("image/svg+xml");
  });

  it("writes sizes in binary units", () => {
    expect(formatBytes(465)).toBe("465 B");
    expect(formatBytes(12_700)).toBe("12.4 KiB");
    expect(formatBytes(3.1 * 1024 * 1024)).toBe("3.1 MiB");
  });
});
