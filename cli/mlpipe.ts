/**
 * The `mlpipe` command (package bin, through bin/mlpipe.js; or `npx tsx cli/mlpipe.ts`): servers
 * (`start`, `registry`, `serve`), tracking, registry and inference commands. Exit codes: 0 ok,
 * 1 server error, 2 usage error, 3 server unreachable (see exit-codes.ts).
 */
import { processIo } from "./cli-io.js";
import { allCommands } from "./commands/all-commands.js";
import { runCli } from "./run-cli.js";

const code = await runCli(process.argv.slice(2), processIo(), allCommands);
// Exit explicitly once stdout is flushed: a server command's closed listeners or a client's idle
// keep-alive sockets must not hold the process open.
process.stdout.write("", () => process.exit(code));
