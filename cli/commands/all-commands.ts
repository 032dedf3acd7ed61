/** Every `mlpipe` subcommand, in the order `mlpipe --help` lists them within their sections. */
import type { Command } from "../command.js";
import { aliasDeleteCommand } from "./alias-delete-command.js";
import { aliasSetCommand } from "./alias-set-command.js";
import { artifactsDownloadCommand } from "./artifacts-download-command.js";
import { artifactsUploadCommand } from "./artifacts-upload-command.js";
import { experimentsListCommand } from "./experiments-list-command.js";
import { modelsListCommand } from "./models-list-command.js";
import { predictCommand } from "./predict-command.js";
import { promoteCommand } from "./promote-command.js";
import { registerCommand } from "./register-command.js";
import { registryCommand } from "./registry-command.js";
import { rolloutAbortCommand, rolloutStartCommand, rolloutStatusCommand } from "./rollout-commands.js";
import { runsListCommand } from "./runs-list-command.js";
import { serveCommand } from "./serve-command.js";
import { startCommand } from "./start-command.js";
import { grantsSetCommand, tokensCreateCommand, tokensListCommand, tokensRevokeCommand } from "./tokens-commands.js";
import { trafficClearCommand } from "./traffic-clear-command.js";
import { trafficSetCommand } from "./traffic-set-command.js";
import { trafficShadowCommand } from "./traffic-shadow-command.js";
import { versionsListCommand } from "./versions-list-command.js";

/** The command table of `mlpipe`. */
export const allCommands: readonly Command[] = [
  startCommand,
  registryCommand,
  serveCommand,
  experimentsListCommand,
  runsListCommand,
  artifactsUploadCommand,
  artifactsDownloadCommand,
  modelsListCommand,
  versionsListCommand,
  registerCommand,
  promoteCommand,
  aliasSetCommand,
  aliasDeleteCommand,
  trafficSetCommand,
  trafficClearCommand,
  trafficShadowCommand,
  rolloutStartCommand,
  rolloutStatusCommand,
  rolloutAbortCommand,
  predictCommand,
  tokensCreateCommand,
  tokensListCommand,
  tokensRevokeCommand,
  grantsSetCommand,
];
