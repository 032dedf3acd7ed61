/**
 * Fails when gen/ is not exactly what `buf generate` makes from proto/ (so a contract change can't
 * land without its generated code), and when proto/ breaks compatibility with the committed main
 * branch (`buf breaking`). Runs offline: protoc-gen-es is the locally installed plugin.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listFiles, staleFiles } from "./tree-diff.js";

const root = join(import.meta.dirname, "..");
const buf = join(root, "node_modules", ".bin", "buf");

const work = mkdtempSync(join(tmpdir(), "mlpipe-gen-"));
try {
  for (const name of ["proto", "buf.yaml", "buf.gen.yaml"])
    cpSync(join(root, name), join(work, name), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(work, "node_modules"), "dir");
  execFileSync(buf, ["generate"], { cwd: work, stdio: "inherit" });
  const stale = staleFiles(join(work, "gen"), join(root, "gen"));
  if (stale.length > 0) {
    console.error(`gen/ is stale (${stale.join(", ")}): run \`npm run gen\` and commit the result`);
    process.exit(1);
  }
  console.log(`gen/ is fresh (${listFiles(join(work, "gen")).length} files)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Breaking-change check against the committed main branch, once main has contracts.
let mainHasProto = false;
try {
  mainHasProto =
    execFileSync("git", ["ls-tree", "-r", "--name-only", "main", "proto"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim() !== "";
} catch {
  mainHasProto = false;
}
if (mainHasProto) {
  execFileSync(buf, ["breaking", "proto", "--against", ".git#branch=main,subdir=proto"], {
    cwd: root,
    stdio: "inherit",
  });
  console.log("buf breaking: no breaking change against main");
} else {
  console.log("buf breaking: skipped (main has no contracts yet)");
}
