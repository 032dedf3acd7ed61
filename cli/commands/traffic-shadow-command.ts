/** `mlpipe traffic shadow <model> <alias=percent>...` and `mlpipe traffic shadow <model> --clear`. */
import { commonErrors } from "../../core/errors/index.js";
import { parseShadowRoutes, shadowTag } from "../../core/validation/shadow-routes.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { writeJson } from "../output.js";

/** The `traffic shadow` command. */
export const trafficShadowCommand: Command = {
  name: "traffic shadow",
  section: "Model registry",
  summary: "mirror a share of a model's requests to the versions behind aliases, comparing their answers",
  details:
    "Sets the model's shadow routes in the registry (the model tag mlpipe.shadow, recorded in its history): " +
    "every inference server serving the model mirrors that percent of the requests that pin no version to the " +
    "version behind each alias, after answering them, and counts agreement (shadow_requests_total) and latency " +
    "(shadow_latency_seconds); shadow answers are never returned. --clear stops mirroring.",
  arguments: [
    { name: "model", description: "registered model name" },
    {
      name: "alias=percent",
      description: "e.g. challenger=100 (at most 3 aliases; none with --clear)",
      variadic: true,
      optional: true,
    },
  ],
  options: { clear: { type: "boolean", description: "remove the shadow routes" } },
  examples: ["traffic shadow iris-classifier challenger=100", "traffic shadow iris-classifier --clear"],
  async run({ io, args, json, registryUrl }) {
    const [name = "", ...routeArgs] = args.positionals;
    if (args.boolean("clear")) {
      if (routeArgs.length > 0) throw commonErrors.invalidArgument("alias=percent", "none with --clear");
      const client = createCliClient(registryUrl(), io.env);
      await client.registry.deleteRegisteredModelTag({ name, key: shadowTag });
      if (json) writeJson(io, { name, cleared: true });
      else io.stdout.write(`${name}: shadow cleared\n`);
      return undefined;
    }
    const value = routeArgs.join(",");
    // Checked here too, so a typo is explained before anything is sent; the registry checks it again.
    const shadow = parseShadowRoutes(value);
    if (!shadow.ok) throw commonErrors.invalidArgument("alias=percent", shadow.problem);
    const client = createCliClient(registryUrl(), io.env);
    await client.registry.setRegisteredModelTag({ name, key: shadowTag, value });
    if (json) writeJson(io, { name, shadow: shadow.routes });
    else io.stdout.write(`${name}: shadow ${shadow.routes.map((r) => `${r.alias} ${r.percent}%`).join(", ")}\n`);
    return undefined;
  },
};
