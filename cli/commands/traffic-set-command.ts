/** `mlpipe traffic set <model> <alias=percent>...`. */
import { commonErrors } from "../../core/errors/index.js";
import { parseTrafficSplit, trafficSplitTag } from "../../core/validation/traffic-split.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { writeJson } from "../output.js";

/** The `traffic set` command. */
export const trafficSetCommand: Command = {
  name: "traffic set",
  section: "Model registry",
  summary: "split a model's requests between the versions behind its aliases (canary)",
  details:
    "Sets the model's traffic split in the registry (the model tag mlpipe.traffic_split, recorded in its history): " +
    "every inference server serving the model routes requests that pin no version by these shares, " +
    "loading the version behind each alias. Percents are whole and sum to 100.",
  arguments: [
    { name: "model", description: "registered model name" },
    { name: "alias=percent", description: "a route, e.g. champion=90 challenger=10 (at most 10)", variadic: true },
  ],
  options: {},
  examples: ["traffic set iris-classifier champion=90 challenger=10"],
  async run({ io, args, json, registryUrl }) {
    const [name = "", ...routeArgs] = args.positionals;
    const value = routeArgs.join(",");
    // Checked here too, so a typo is explained before anything is sent; the registry checks it again.
    const split = parseTrafficSplit(value);
    if (!split.ok) throw commonErrors.invalidArgument("alias=percent", split.problem);
    const client = createCliClient(registryUrl(), io.env);
    await client.registry.setRegisteredModelTag({ name, key: trafficSplitTag, value });
    if (json) writeJson(io, { name, routes: split.routes });
    else io.stdout.write(`${name}: ${split.routes.map((r) => `${r.alias} ${r.percent}%`).join(", ")}\n`);
    return undefined;
  },
};
