import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  credentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";

/** Per-call options of a {@link GrpcClient} method. */
export interface GrpcCallOptions {
  /** Absolute deadline of the call. */
  readonly deadline?: Date;
  /** Request metadata (headers). */
  readonly metadata?: Readonly<Record<string, string>>;
}

type Requests<I extends DescMessage> = Iterable<MessageInitShape<I>> | AsyncIterable<MessageInitShape<I>>;

/** The client function of one method, by kind. */
type GrpcMethod<M> = M extends {
  methodKind: infer K;
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
}
  ? K extends "unary"
    ? (request: MessageInitShape<I>, options?: GrpcCallOptions) => Promise<MessageShape<O>>
    : K extends "server_streaming"
      ? (request: MessageInitShape<I>, options?: GrpcCallOptions) => AsyncIterable<MessageShape<O>>
      : K extends "client_streaming"
        ? (requests: Requests<I>, options?: GrpcCallOptions) => Promise<MessageShape<O>>
        : (requests: Requests<I>, options?: GrpcCallOptions) => AsyncIterable<MessageShape<O>>
  : never;

/**
 * A @grpc/grpc-js client of one protobuf-es service: a method per RPC (lowerCamelCase, as in the
 * generated descriptor). Unary and client-streaming calls resolve the response message or reject
 * with grpc-js's `ServiceError` (`code`, `details`, `metadata`); streaming responses are async
 * iterables that throw the `ServiceError`. Messages are protobuf-es messages, encoded with
 * toBinary/fromBinary.
 */
export type GrpcClient<S extends GenServiceMethods> = { readonly [K in keyof S]: GrpcMethod<S[K]> } & {
  /** Closes the channel. */
  close(): void;
};

/**
 * Creates a {@link GrpcClient} for `service` at `address` ("127.0.0.1:5000"), over cleartext
 * HTTP/2 as every gRPC client speaks to mlpipe unless `channelCredentials` says TLS
 * (`credentials.createSsl(ca)`). Reusable for any generated service.
 */
export function createGrpcClient<S extends GenServiceMethods>(
  service: GenService<S>,
  address: string,
  options: ChannelOptions = {},
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
): GrpcClient<S> {
  const client = new Client(address, channelCredentials, {
    // The default 4 MiB receive limit is the gRPC convention; tests exercise the server's limits.
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
    ...options,
  });
  // The methods are built from the descriptor at run time, so the object is typed by the cast at
  // the end: each entry is made by the branch for its methodKind, which is what GrpcMethod maps.
  const methods: Record<string, unknown> = { close: () => client.close() };
  for (const method of service.methods) methods[method.localName] = methodFunction(client, service.typeName, method);
  return methods as GrpcClient<S>;
}

function methodFunction(client: Client, typeName: string, method: DescMethod): unknown {
  const path = `/${typeName}/${method.name}`;
  const serialize = (value: MessageInitShape<DescMessage>): Buffer =>
    Buffer.from(toBinary(method.input, create(method.input, value)));
  const deserialize = (bytes: Buffer): MessageShape<DescMessage> => fromBinary(method.output, bytes);
  const callArgs = (options: GrpcCallOptions | undefined) => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(options?.metadata ?? {})) metadata.set(key, value);
    return { metadata, callOptions: options?.deadline === undefined ? {} : { deadline: options.deadline } };
  };

  switch (method.methodKind) {
    case "unary":
      return (request: MessageInitShape<DescMessage>, options?: GrpcCallOptions) => {
        const { metadata, callOptions } = callArgs(options);
        return new Promise((resolve, reject) => {
          client.makeUnaryRequest(path, serialize, deserialize, request, metadata, callOptions, (err, res) =>
            err === null ? resolve(res) : reject(err),
          );
        });
      };
    case "server_streaming":
      return (request: MessageInitShape<DescMessage>, options?: GrpcCallOptions) => {
        const { metadata, callOptions } = callArgs(options);
        return readStream(client.makeServerStreamRequest(path, serialize, deserialize, request, metadata, callOptions));
      };
    case "client_streaming":
      return (requests: Requests<DescMessage>, options?: GrpcCallOptions) => {
        const { metadata, callOptions } = callArgs(options);
        return new Promise((resolve, reject) => {
          let settled = false;
          let onSettled = () => {};
          const finished = new Promise<void>((r) => {
            onSettled = r;
          });
          const call = client.makeClientStreamRequest(
            path,
            serialize,
            deserialize,
            metadata,
            callOptions,
            (err, res) => {
              settled = true;
              onSettled();
              if (err === null) resolve(res);
              else reject(err);
            },
          );
          writeAll(call, requests, () => settled, finished).catch((err: unknown) => {
            call.cancel();
            reject(err);
          });
        });
      };
    case "bidi_streaming":
      return (requests: Requests<DescMessage>, options?: GrpcCallOptions) => {
        const { metadata, callOptions } = callArgs(options);
        const call = client.makeBidiStreamRequest(path, serialize, deserialize, metadata, callOptions);
        const ended = new Promise<void>((r) => call.once("close", () => r()));
        writeAll(call, requests, () => call.destroyed, ended).catch(() => call.cancel());
        return readStream(call);
      };
  }
}

/** Writes every request with backpressure, stopping early when the call is over, then half-closes. */
async function writeAll(
  call: {
    write(message: MessageInitShape<DescMessage>): boolean;
    end(): void;
    once(event: "drain", listener: () => void): unknown;
  },
  requests: Requests<DescMessage>,
  isOver: () => boolean,
  over: Promise<void>,
): Promise<void> {
  for await (const request of requests) {
    if (isOver()) return;
    if (!call.write(request)) {
      await Promise.race([new Promise<void>((resolve) => call.once("drain", resolve)), over]);
    }
  }
  if (!isOver()) call.end();
}

async function* readStream(stream: AsyncIterable<unknown>): AsyncIterable<MessageShape<DescMessage>> {
  // grpc-js streams yield what `deserialize` returned.
  for await (const message of stream) yield message as MessageShape<DescMessage>;
}

/** True when `err` is a grpc-js call error (it carries a numeric `code` and `details`). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number" && "details" in err;
}

/** The grpc-js error a call fails with; throws when it succeeds or fails otherwise. */
export async function grpcError(call: Promise<unknown>): Promise<ServiceError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isServiceError(err)) throw new Error(`expected a gRPC error, got ${String(err)}`);
  return err;
}

/**
 * The details of type `desc` in a gRPC error's `grpc-status-details-bin` trailer (a
 * google.rpc.Status whose `details` are Any messages), e.g. mlpipe's ErrorDetail.
 */
export function grpcErrorDetails<Desc extends DescMessage>(err: ServiceError, desc: Desc): MessageShape<Desc>[] {
  return err.metadata
    .get("grpc-status-details-bin")
    .flatMap((value) => (typeof value === "string" ? [] : statusBinDetails(value, desc)));
}

/** The details of type `desc` in the bytes of a `grpc-status-details-bin` header (base64 decoded). */
export function statusBinDetails<Desc extends DescMessage>(bytes: Uint8Array, desc: Desc): MessageShape<Desc>[] {
  return statusDetails(bytes)
    .filter((any) => any.typeUrl === `type.googleapis.com/${desc.typeName}`)
    .map((any) => fromBinary(desc, any.value));
}

/** The Any messages of field 3 of a google.rpc.Status, decoded by hand to avoid its generated code. */
function statusDetails(bytes: Uint8Array): { typeUrl: string; value: Uint8Array }[] {
  const details: { typeUrl: string; value: Uint8Array }[] = [];
  const status = new BinaryReader(bytes);
  while (status.pos < status.len) {
    const [field, wireType] = status.tag();
    if (field !== 3 || wireType !== WireType.LengthDelimited) {
      status.skip(wireType);
      continue;
    }
    const any = new BinaryReader(status.bytes());
    let typeUrl = "";
    let value: Uint8Array = new Uint8Array();
    while (any.pos < any.len) {
      const [f, w] = any.tag();
      if (f === 1 && w === WireType.LengthDelimited) typeUrl = any.string();
      else if (f === 2 && w === WireType.LengthDelimited) value = any.bytes();
      else any.skip(w);
    }
    details.push({ typeUrl, value });
  }
  return details;
}
