/**
 * The shape most MLflow REST endpoints share: one unary call of a service implementation, its
 * request message made from MLflow's parameters and its response message turned into MLflow's
 * JSON, driven by the method's descriptor from gen/ (`RegistryService.method.getModelVersion`,
 * `TrackingService.method.getRun`), which names the implementation's handler and the request and
 * response schemas. An endpoint that calls twice, or decides whether to call, stays a plain
 * MlflowEndpoint and uses {@link callUnary} for its calls.
 */
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { commonErrors } from "../../core/errors/index.js";
import type { JsonHandler } from "../protocol-json/json-router.js";
import type { BodyLimits } from "../protocol-json/request-body.js";
import { type MlflowEndpoint, mlflowEndpoint } from "./mlflow-call.js";
import type { MlflowParams } from "./mlflow-params.js";

/** A unary handler as a ServiceImpl holds it (it may answer an init shape, sync or async). */
type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: HandlerContext,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

/**
 * Calls the unary `method` of `impl` with the request `init` describes and the caller's context,
 * and gives the whole response message (defaults filled in, as a client would see it).
 */
export async function callUnary<S extends DescService, I extends DescMessage, O extends DescMessage>(
  impl: ServiceImpl<S>,
  method: DescMethodUnary<I, O>,
  init: MessageInitShape<I>,
  ctx: HandlerContext,
): Promise<MessageShape<O>> {
  // A ServiceImpl is keyed by its methods' local names, a link TypeScript cannot follow from the
  // descriptor: looked up by name here, once, and checked to be there.
  const handler = (impl as unknown as Readonly<Record<string, UnaryHandler<I, O> | undefined>>)[method.localName];
  if (typeof handler !== "function") {
    throw commonErrors.internal(
      new Error(`the implementation has no handler of ${method.parent.typeName}.${method.name}`),
    );
  }
  return create(method.output, await handler.call(impl, create(method.input, init), ctx));
}

/** MLflow's parameters as the fields of a request message (may read the service, hence async). */
export type RequestOf<I extends DescMessage> = (
  params: MlflowParams,
  ctx: HandlerContext,
) => MessageInitShape<I> | Promise<MessageInitShape<I>>;

/** A response message as MLflow's JSON answer. */
export type AnswerOf<O extends DescMessage> = (
  response: MessageShape<O>,
  ctx: HandlerContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

/**
 * The endpoint that is one call of `method` on `impl`: `request` builds its request from the
 * parameters, `answer` MLflow's JSON from its response (`{}` without one, for MLflow's empty
 * answers).
 */
export function unaryEndpoint<S extends DescService, I extends DescMessage, O extends DescMessage>(
  impl: ServiceImpl<S>,
  method: DescMethodUnary<I, O>,
  request: RequestOf<I>,
  answer?: AnswerOf<O>,
): MlflowEndpoint {
  return async (params, ctx) => {
    const response = await callUnary(impl, method, await request(params, ctx), ctx);
    return answer === undefined ? {} : answer(response, ctx);
  };
}

/** The route handlers of {@link mlflowRoutesOf}: an endpoint of its own, or one call. */
export interface MlflowRouteMakers {
  /** The route of `endpoint`, whose calls' contexts are made for `method`. */
  on(method: DescMethodUnary, endpoint: MlflowEndpoint): JsonHandler;
  /** The route of an endpoint that is one call of `method` (see {@link unaryEndpoint}). */
  rpc<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: RequestOf<I>,
    answer?: AnswerOf<O>,
  ): JsonHandler;
}

/** The route makers of the endpoints over `impl`, reading bodies within `body`'s size and time. */
export function mlflowRoutesOf<S extends DescService>(impl: ServiceImpl<S>, body: BodyLimits): MlflowRouteMakers {
  const on = (method: DescMethodUnary, endpoint: MlflowEndpoint) => mlflowEndpoint(method, body, endpoint);
  return {
    on,
    rpc: (method, request, answer) => on(method, unaryEndpoint(impl, method, request, answer)),
  };
}
