/** How the artifacts browser previews a file, by its name. */

/** "text" (shown as is), "json" (pretty-printed), "image" (shown as a picture) or "none" (download only). */
export type PreviewKind = "text" | "json" | "image" | "none";

const textExtensions = new Set([
  "txt",
  "log",
  "md",
  "csv",
  "tsv",
  "yaml",
  "yml",
  "toml",
  "ini",
  "cfg",
  "py",
  "ts",
  "js",
  "sh",
  "html",
  "xml",
  "mlmodel",
]);
const imageTypes: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
};

/** Largest part of a file read for a preview, bytes. */
export const previewBytes = 1024 * 1024;

/** The preview of a file named `path`. */
export function previewKind(path: string): PreviewKind {
  const name = path.split("/").at(-1) ?? "";
  const ext = name.includes(".") ? (name.split(".").at(-1)?.toLowerCase() ?? "") : "";
  if (ext === "json") return "json";
  if (ext in imageTypes) return "image";
  if (textExtensions.has(ext) || name === "MLmodel" || name === "requirements.txt") return "text";
  return "none";
}

/** The media type of an image file, for its Blob. */
export function imageType(path: string): string {
  return imageTypes[path.split(".").at(-1)?.toLowerCase() ?? ""] ?? "application/octet-stream";
}

/** `465 B`, `12.4 KiB`, `3.1 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
