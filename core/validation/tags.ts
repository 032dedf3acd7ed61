import { commonErrors } from "../errors/common-errors.js";
import { validateKey, validateModelTagKey } from "./keys.js";
import { parseRolloutSpec, rolloutTag } from "./rollout-spec.js";
import { rolloutStatusTag } from "./rollout-status.js";
import { parseShadowRoutes, shadowTag } from "./shadow-routes.js";
import { parseTrafficSplit, trafficSplitTag } from "./traffic-split.js";
import { validateModelTagValue, validateTagValue } from "./values.js";

/** Most tags of one create request of a registered model or version. */
const maxModelTagsPerRequest = 100;

/** A tag of a run or experiment: key and value. */
export function validateTag(tag: { readonly key: string; readonly value: string }, field: string): void {
  validateKey(tag.key, `${field}.key`);
  validateTagValue(tag.value, `${field}.value`);
}

/** A map of tags of an experiment: each key and value, the field named `<field>["<key>"]`. */
export function validateTagMap(tags: Readonly<Record<string, string>>, field: string): Record<string, string> {
  for (const [key, value] of Object.entries(tags)) validateTag({ key, value }, `${field}["${key}"]`);
  return { ...tags };
}

/**
 * A tag of a registered model or version: key (1 to 250 characters, no control characters) and
 * value (up to 5000 characters). The fields are `key`/`value`, or `<field>`/`<field>.value`.
 * The `mlpipe.traffic_split` tag must hold a traffic split (core/validation/traffic-split.ts) and
 * `mlpipe.shadow` shadow routes (core/validation/shadow-routes.ts), `mlpipe.rollout` a rollout's
 * parameters (core/validation/rollout-spec.ts); `mlpipe.rollout_status` is refused: only the
 * registry's rollout controller writes it (through the store), so its history cannot be forged.
 */
export function validateModelTag(key: string, value: string, field = "key"): void {
  validateModelTagKey(key, field);
  const valueField = field === "key" ? "value" : `${field}.value`;
  validateModelTagValue(value, valueField);
  if (key === trafficSplitTag) {
    const split = parseTrafficSplit(value);
    if (!split.ok) throw commonErrors.invalidArgument(valueField, `a traffic split: ${split.problem}`);
  }
  if (key === shadowTag) {
    const shadow = parseShadowRoutes(value);
    if (!shadow.ok) throw commonErrors.invalidArgument(valueField, `shadow routes: ${shadow.problem}`);
  }
  if (key === rolloutStatusTag) {
    throw commonErrors.invalidArgument(
      field,
      `"${rolloutStatusTag}" is written by the registry's rollout controller only`,
    );
  }
  if (key === rolloutTag) {
    const rollout = parseRolloutSpec(value);
    if (!rollout.ok) throw commonErrors.invalidArgument(valueField, `a rollout: ${rollout.problem}`);
  }
}

/** The tags of a create request of a registered model or version: at most 100, each checked. */
export function validateModelTags(tags: Readonly<Record<string, string>>): void {
  const keys = Object.keys(tags);
  if (keys.length > maxModelTagsPerRequest) {
    throw commonErrors.invalidArgument("tags", `at most ${maxModelTagsPerRequest}`);
  }
  for (const key of keys) validateModelTag(key, tags[key] ?? "", `tags[${JSON.stringify(key)}]`);
}
