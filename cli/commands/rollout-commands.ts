/**
 * `mlpipe rollout start|status|abort`: progressive delivery of a model (issue 16). A rollout is
 * the model tag `mlpipe.rollout` (core/validation/rollout-spec.ts), which the registry validates
 * and its rollout controller carries out; its decisions are the `mlpipe.rollout_status` tag's
 * history (core/validation/rollout-status.ts), read here from ListRegistryEvents.
 */
import { commonErrors } from "../../core/errors/index.js";
import { formatRolloutSpec, parseRolloutSpec, rolloutTag } from "../../core/validation/rollout-spec.js";
import { parseRolloutStatus, type RolloutStatus, rolloutStatusTag } from "../../core/validation/rollout-status.js";
import { trafficSplitTag } from "../../core/validation/traffic-split.js";
import { RegistryEventType } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatTime } from "../display-values.js";
import { writeJson } from "../output.js";
import { renderTable } from "../table.js";

/** The flags of `rollout start` and the `mlpipe.rollout` key each sets. */
const startFlags = {
  champion: "champion",
  challenger: "challenger",
  step: "step",
  interval: "interval",
  "max-weight": "max_weight",
  "min-requests": "min_requests",
  "max-error-increase": "max_error_increase",
  "max-p99-ratio": "max_p99_ratio",
} as const;

/** `rollout start <model>`. */
export const rolloutStartCommand: Command = {
  name: "rollout start",
  section: "Model registry",
  summary: "roll a challenger out in steps, promoting or rolling it back on its error ratio and p99",
  details:
    "Sets the model tag mlpipe.rollout. Every --interval the registry compares what the challenger and the " +
    "champion answered on every inference server (reported by them): too few requests holds, an error ratio " +
    "above the champion's by more than --max-error-increase or a p99 above --max-p99-ratio times the champion's " +
    "rolls back (split champion=100), else the challenger's weight in the traffic split grows by --step; after " +
    "passing at --max-weight the champion alias moves to the challenger's version. Every decision is in the " +
    "model's history (mlpipe rollout status --history).",
  arguments: [{ name: "model", description: "registered model name" }],
  options: {
    champion: { type: "string", valueName: "ALIAS", description: "the alias serving today (default champion)" },
    challenger: { type: "string", valueName: "ALIAS", description: "the alias rolled out (default challenger)" },
    step: { type: "string", valueName: "PERCENT", description: "weight added per passed step (default 10)" },
    interval: { type: "string", valueName: "DURATION", description: "length of a step, e.g. 60s, 5m (default 60s)" },
    "max-weight": {
      type: "string",
      valueName: "PERCENT",
      description: "highest weight before promotion (default 100)",
    },
    "min-requests": {
      type: "string",
      valueName: "N",
      description: "requests each version must answer in a step for a decision (default 100)",
    },
    "max-error-increase": {
      type: "string",
      valueName: "RATIO",
      description: "largest error ratio over the champion's, absolute (default 0.01)",
    },
    "max-p99-ratio": {
      type: "string",
      valueName: "RATIO",
      description: "largest p99 latency as a multiple of the champion's (default 1.5)",
    },
  },
  examples: ["rollout start iris-classifier --champion champion --challenger challenger --step 10 --interval 60s"],
  async run({ io, args, json, registryUrl }) {
    const [name = ""] = args.positionals;
    const given: Record<string, string> = { champion: "champion", challenger: "challenger" };
    for (const [flag, key] of Object.entries(startFlags)) {
      const value = args.string(flag);
      if (value !== undefined) given[key] = value;
    }
    const parsed = parseRolloutSpec(
      Object.entries(given)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    );
    if (!parsed.ok) throw commonErrors.invalidArgument("rollout", parsed.problem);
    const value = formatRolloutSpec(parsed.spec);
    const client = createCliClient(registryUrl(), io.env);
    await client.registry.setRegisteredModelTag({ name, key: rolloutTag, value });
    if (json) writeJson(io, { name, rollout: value });
    else io.stdout.write(`${name}: rollout started (${value})\n`);
    return undefined;
  },
};

/** The history of a model's rollout decisions, oldest first. */
async function history(client: ReturnType<typeof createCliClient>, name: string) {
  const out: { time: bigint; actor: string; status: RolloutStatus }[] = [];
  let pageToken = "";
  do {
    const page = await client.registry.listRegistryEvents({ name, maxResults: 1000, pageToken });
    for (const e of page.events) {
      if (e.type !== RegistryEventType.MODEL_TAG_SET || e.key !== rolloutStatusTag) continue;
      const status = parseRolloutStatus(e.toValue);
      if (status !== undefined) out.push({ time: e.time, actor: e.actor, status });
    }
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return out;
}

/** "challenger v2: 120 requests, 3 errors, p99 4.1 ms (2 replicas)" for a decision's numbers. */
function numbersText(status: RolloutStatus): string {
  const one = (label: string, n: RolloutStatus["champion"]) =>
    n === undefined
      ? ""
      : `${label} v${n.version}: ${n.requests} requests, ${n.errors} errors, p99 ${n.p99Ms === null ? "-" : `${n.p99Ms} ms`} (${n.replicas} ${n.replicas === 1 ? "replica" : "replicas"})`;
  return [one("champion", status.champion), one("challenger", status.challenger)].filter((s) => s !== "").join("; ");
}

/** `rollout status <model>`. */
export const rolloutStatusCommand: Command = {
  name: "rollout status",
  section: "Model registry",
  summary: "show a model's rollout: its parameters, weight, last decision and (--history) every step",
  arguments: [{ name: "model", description: "registered model name" }],
  options: { history: { type: "boolean", description: "list every decision of the model's rollouts" } },
  examples: ["rollout status iris-classifier --history"],
  async run({ io, args, json, registryUrl }) {
    const [name = ""] = args.positionals;
    const client = createCliClient(registryUrl(), io.env);
    const { registeredModel } = await client.registry.getRegisteredModel({ name });
    const tags = registeredModel?.tags ?? {};
    const status = parseRolloutStatus(tags[rolloutStatusTag]);
    const steps = args.boolean("history") ? await history(client, name) : undefined;
    if (json) {
      writeJson(io, {
        name,
        rollout: tags[rolloutTag] ?? null,
        split: tags[trafficSplitTag] ?? null,
        status: status ?? null,
        ...(steps === undefined ? {} : { history: steps }),
      });
      return undefined;
    }
    if (status === undefined) {
      io.stdout.write(`${name}: no rollout\n`);
    } else {
      io.stdout.write(
        `${name}: ${status.state}, challenger weight ${status.weight}%, last decision ${status.decision}: ${status.reason}\n` +
          `  rollout: ${status.spec}\n  split: ${tags[trafficSplitTag] ?? "(none)"}\n`,
      );
      const numbers = numbersText(status);
      if (numbers !== "") io.stdout.write(`  last step: ${numbers}\n`);
    }
    if (steps !== undefined) {
      io.stdout.write(
        renderTable(
          ["TIME", "STATE", "DECISION", "WEIGHT", "REASON"],
          steps.map((s) => [
            formatTime(s.time),
            s.status.state,
            s.status.decision,
            String(s.status.weight),
            s.status.reason,
          ]),
        ),
      );
    }
    return undefined;
  },
};

/** `rollout abort <model>`. */
export const rolloutAbortCommand: Command = {
  name: "rollout abort",
  section: "Model registry",
  summary: "stop a model's rollout: the registry gives the champion all traffic back",
  arguments: [{ name: "model", description: "registered model name" }],
  options: {},
  examples: ["rollout abort iris-classifier"],
  async run({ io, args, json, registryUrl }) {
    const [name = ""] = args.positionals;
    const client = createCliClient(registryUrl(), io.env);
    await client.registry.deleteRegisteredModelTag({ name, key: rolloutTag });
    if (json) writeJson(io, { name, aborted: true });
    else io.stdout.write(`${name}: rollout aborted; the registry sets the split back to the champion\n`);
    return undefined;
  },
};
