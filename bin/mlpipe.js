#!/usr/bin/env node
// The package bin: runs the TypeScript CLI (cli/mlpipe.ts) through tsx, a runtime dependency, so
// `npx mlpipe` and `npm link` work without a build step.
import { register } from "tsx/esm/api";

register();
await import("../cli/mlpipe.ts");
