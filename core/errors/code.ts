/**
 * The closed set of status codes every mlpipe error carries: the gRPC status codes, with the
 * same numbers (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), so they cross gRPC and
 * Connect unchanged.
 */
export const Code = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

/** One of the gRPC status codes (never 0: success is not an error). */
export type Code = (typeof Code)[keyof typeof Code];

const names: Record<Code, string> = {
  1: "canceled",
  2: "unknown",
  3: "invalid_argument",
  4: "deadline_exceeded",
  5: "not_found",
  6: "already_exists",
  7: "permission_denied",
  8: "resource_exhausted",
  9: "failed_precondition",
  10: "aborted",
  11: "out_of_range",
  12: "unimplemented",
  13: "internal",
  14: "unavailable",
  15: "data_loss",
  16: "unauthenticated",
};

/** The snake_case name of a code, as Connect spells it in JSON ("not_found"). */
export function codeName(code: Code): string {
  return names[code];
}

/** Parses a snake_case code name back to its code; undefined for anything else. */
export function codeFromName(name: string): Code | undefined {
  for (const [num, n] of Object.entries(names)) {
    if (n === name) return Number(num) as Code;
  }
  return undefined;
}
