import { commonErrors } from "../errors/common-errors.js";
import { hasControlCharacters } from "./text.js";

/** The request header naming who makes a change the registry records. */
export const actorHeader = "mlpipe-actor";
/** The actor recorded when the header is absent or blank. */
const anonymousActor = "anonymous";
/** Longest actor name, in characters. */
const maxActorLength = 256;

/**
 * The actor of a mutating call from its `mlpipe-actor` header value: trimmed, "anonymous" when
 * absent. INVALID_ARGUMENT naming the header when longer than 256 characters or not printable.
 */
export function actorFrom(header: string | null | undefined): string {
  const actor = header?.trim() ?? "";
  if (actor === "") return anonymousActor;
  if (actor.length > maxActorLength || hasControlCharacters(actor)) {
    throw commonErrors.invalidArgument(actorHeader, `must be at most ${maxActorLength} printable characters`);
  }
  return actor;
}
