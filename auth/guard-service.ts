/**
 * Authorization, once, around a service implementation: each method of the returned
 * implementation checks the call's identity (identity-context.ts) against the method's
 * `(mlpipe.auth.v1.policy)` before the real method runs, then applies what the policy says the call
 * does to permissions (the creator gets MANAGE, grants follow renames and deletions) and filters
 * search results to what the caller may read. Every surface (gRPC, Connect, gRPC-Web, the MLflow
 * REST adapter) calls the same guarded implementation, so none can skip the check.
 *
 * With authentication on, the `mlpipe-actor` header a service records in its audit log is replaced
 * by the authenticated principal, so a client cannot write someone else's name there.
 */
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  isMessage,
  type Message,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { authErrors } from "../core/errors/index.js";
import { actorHeader } from "../core/validation/actor.js";
import { Access, ResourceKind } from "../gen/mlpipe/auth/v1/policy_pb.js";
import type { AccessDecider } from "./access-decider.js";
import type { AuthStore, GrantKind } from "./auth-store.js";
import type { Identity } from "./identity.js";
import { identityOf } from "./identity-context.js";
import { type CompiledPolicy, type CompiledRef, compileServicePolicies } from "./method-policy.js";
import type { PermissionLevel } from "./permission.js";
import type { RateLimiter } from "./rate-limiter.js";

/** Options of {@link guardService}. */
export interface GuardOptions {
  readonly decider: AccessDecider;
  /** Where creations, renames and deletions update grants. */
  readonly store: AuthStore;
  /** The experiment of a run; undefined when there is no such run (then the kind-wide permission decides). */
  readonly experimentOfRun: (runId: string) => Promise<string | undefined>;
  /** What moving a model version to Production needs (AUTH_PRODUCTION_PERMISSION). */
  readonly productionPermission: PermissionLevel;
  /** Limits each principal's calls of methods needing EDIT or MANAGE (REGISTRY_WRITE_RATE_LIMIT); undefined: none. */
  readonly writeLimiter?: RateLimiter;
}

/** A guarded resource: the grant kind it is checked on and the ids it names (none: the kind as a whole). */
interface Target {
  readonly kind: GrantKind;
  readonly ids: string[];
}

const runsSource = /^runs:\/([^/]+)\//;

/** The checks of one method, with the options in scope. */
function createChecks(options: GuardOptions) {
  const { decider } = options;

  async function targetOf(ref: CompiledRef, message: Message): Promise<Target | "admin"> {
    const named = ref.path?.read(message).filter((v) => v !== "") ?? [];
    const ids = named.length === 0 && ref.defaultId !== "" ? [ref.defaultId] : named;
    switch (ref.kind) {
      case ResourceKind.EXPERIMENT:
        return { kind: "experiment", ids };
      case ResourceKind.REGISTERED_MODEL:
        return { kind: "registered_model", ids };
      case ResourceKind.RUN:
        return { kind: "experiment", ids: await experimentsOfRuns(ids) };
      case ResourceKind.MODEL_SOURCE: {
        // A run's artifact is read on its experiment; any other URI reaches into the store itself.
        const runIds = ids.map((s) => runsSource.exec(s)?.[1]);
        if (runIds.some((r) => r === undefined)) return "admin";
        return { kind: "experiment", ids: await experimentsOfRuns(runIds.filter((r) => r !== undefined)) };
      }
      default:
        return "admin";
    }
  }

  async function experimentsOfRuns(runIds: readonly string[]): Promise<string[]> {
    const found = await Promise.all(runIds.map((id) => options.experimentOfRun(id)));
    // An unknown run is checked on the kind as a whole: it cannot be told from one the caller may not see.
    return found.some((e) => e === undefined) ? [] : found.filter((e) => e !== undefined);
  }

  async function require(identity: Identity, ref: CompiledRef, message: Message, needed: PermissionLevel) {
    const target = await targetOf(ref, message);
    if (target === "admin") return decider.requireAdmin(identity);
    if (ref.kind === ResourceKind.MODEL_SOURCE && ref.path?.read(message).every((s) => s === "")) return;
    return decider.require(identity, target.kind, target.ids, needed);
  }

  /** Everything the policy checks before the call. */
  async function before(
    policy: CompiledPolicy,
    identity: Identity | undefined,
    request: Message,
    ctx: HandlerContext,
  ): Promise<void> {
    if (policy.access === Access.PUBLIC) return;
    if (identity === undefined) throw authErrors.unauthenticated();
    if (options.writeLimiter !== undefined && (policy.access === Access.EDIT || policy.access === Access.MANAGE)) {
      const retryAfter = options.writeLimiter.take(identity.principal);
      if (retryAfter !== undefined) {
        // Sent with the error on every protocol (connect-es merges the response header into it).
        ctx.responseHeader.set("retry-after", String(retryAfter));
        throw authErrors.rateLimited(identity.principal, retryAfter);
      }
    }
    if (policy.access === Access.ADMIN) return decider.requireAdmin(identity);
    let needed = policy.needed;
    if (policy.stage !== undefined && policy.stage.path.read(request) === policy.stage.production) {
      needed = options.productionPermission;
    }
    if (needed !== undefined && policy.resource !== undefined)
      await require(identity, policy.resource, request, needed);
    for (const ref of policy.reads) await require(identity, ref, request, "read");
  }

  /** What the policy checks and changes once the call has answered (unary methods). */
  async function after(
    policy: CompiledPolicy,
    identity: Identity | undefined,
    request: Message,
    response: Message,
  ): Promise<void> {
    if (identity === undefined) return;
    if (policy.responseResource !== undefined && policy.needed !== undefined) {
      await require(identity, policy.responseResource, response, policy.needed);
    }
    const filter = policy.responseFilter;
    if (filter !== undefined) {
      const kind = grantKindOf(filter.kind);
      const held = await decider.permissions(identity.principal, kind, filter.filter.ids(response));
      filter.filter.retain(response, (id) => held.get(id) !== undefined && held.get(id) !== "none");
    }
    if (policy.creates !== undefined) {
      for (const id of policy.creates.path?.read(response) ?? []) {
        await options.store.setGrant({
          principal: identity.principal,
          kind: grantKindOf(policy.creates.kind),
          resourceId: id,
          permission: "manage",
        });
      }
    }
    const resource = policy.resource;
    if (resource?.path === undefined) return;
    const [from] = resource.path.read(request);
    if (from === undefined || from === "") return;
    if (policy.rename !== undefined) {
      const [to] = policy.rename.read(request);
      if (to !== undefined && to !== "") await options.store.renameResource(grantKindOf(resource.kind), from, to);
    }
    if (policy.deletes) await options.store.deleteResource(grantKindOf(resource.kind), from);
  }

  return { before, after };
}

function grantKindOf(kind: ResourceKind): GrantKind {
  return kind === ResourceKind.REGISTERED_MODEL ? "registered_model" : "experiment";
}

/** The identity of a call, and the audit actor set from it. */
function callIdentity(ctx: HandlerContext): Identity | undefined {
  const identity = identityOf(ctx.values);
  if (identity !== undefined) ctx.requestHeader.set(actorHeader, identity.principal);
  else ctx.requestHeader.delete(actorHeader);
  return identity;
}

/** The first element of an async iterable, and an iterable of all of them again. */
async function peek<T>(iterable: AsyncIterable<T>): Promise<{ first: T | undefined; all: AsyncIterable<T> }> {
  const iterator = iterable[Symbol.asyncIterator]();
  const head = await iterator.next();
  async function* all(): AsyncIterable<T> {
    if (head.done === true) return;
    yield head.value;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { first: head.done === true ? undefined : head.value, all: all() };
}

type AnyHandler = (input: unknown, ctx: HandlerContext) => unknown;

/** Wraps one method of an implementation by its kind. */
function guardMethod(
  method: DescMethod,
  policy: CompiledPolicy,
  handler: AnyHandler,
  checks: ReturnType<typeof createChecks>,
): AnyHandler {
  switch (method.methodKind) {
    case "unary":
      return async (request, ctx) => {
        const identity = callIdentity(ctx);
        await checks.before(policy, identity, request as Message, ctx);
        // Implementations may answer with an init object; reflection needs the message itself.
        const answer = await handler(request, ctx);
        const response = isMessage(answer, method.output)
          ? answer
          : create(method.output, answer as MessageInitShape<DescMessage>);
        await checks.after(policy, identity, request as Message, response);
        return response;
      };
    case "server_streaming":
      return async function* (request, ctx) {
        await checks.before(policy, callIdentity(ctx), request as Message, ctx);
        yield* handler(request, ctx) as AsyncIterable<unknown>;
      };
    case "client_streaming":
      return async (requests, ctx) => {
        const identity = callIdentity(ctx);
        const { first, all } = await peek(requests as AsyncIterable<Message>);
        // An empty stream names nothing: checked on the kind as a whole, as an empty field is.
        await checks.before(policy, identity, first ?? create(method.input), ctx);
        return handler(all, ctx);
      };
    case "bidi_streaming":
      return async function* (requests, ctx) {
        const identity = callIdentity(ctx);
        const { first, all } = await peek(requests as AsyncIterable<Message>);
        await checks.before(policy, identity, first ?? create(method.input), ctx);
        yield* handler(all, ctx) as AsyncIterable<unknown>;
      };
  }
}

/**
 * The guarded implementation of `service`. Fails (PolicyPathError) when a method has no policy or
 * one that does not fit its messages, so a server with a contract bug does not start.
 */
export function guardService<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  options: GuardOptions,
): ServiceImpl<S> {
  const policies = compileServicePolicies(service);
  const checks = createChecks(options);
  // ServiceImpl is a mapped type over the descriptor; its methods are handled here by their
  // descriptor's kind, which the map's value types cannot express, hence the casts.
  const handlers = impl as unknown as Record<string, AnyHandler>;
  const guarded: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const policy = policies.get(method.localName);
    const handler = handlers[method.localName];
    if (policy === undefined || handler === undefined) continue;
    guarded[method.localName] = guardMethod(method, policy, handler.bind(impl), checks);
  }
  return guarded as unknown as ServiceImpl<S>;
}
