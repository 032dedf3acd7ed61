#!/usr/bin/env python3
"""Call mlpipe's Open Inference Protocol v2 gRPC service with grpcio and stubs generated from
proto/inference/v2/grpc_predict_v2.proto (the KServe/Triton contract, package `inference`).

Generate the stubs first; Debian's python3-grpc-tools (protoc 3.5) is enough, as this proto uses
no proto3 `optional`, and its package `inference` does not collide with grpcio's own `grpc`:

  python3 -m grpc_tools.protoc -I proto --python_out=OUT --grpc_python_out=OUT \
      inference/v2/grpc_predict_v2.proto

Usage:
  PYTHONPATH=OUT python3 oip_grpc_client.py --target 127.0.0.1:8081 --model iris-classifier

It runs, in order: ServerLive, ServerReady, ServerMetadata, ModelMetadata, ModelInfer with raw
contents and with typed contents, two refused calls, and a ModelStreamInfer of three requests (one
naming an unknown model), and prints one JSON object with what each answered.
"""

import argparse
import json
import struct
import sys

import grpc
from inference.v2 import grpc_predict_v2_pb2 as pb
from inference.v2 import grpc_predict_v2_pb2_grpc as pb_grpc

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def flat(rows):
    return [v for row in rows for v in row]


def raw_request(model, request_id):
    """A request with raw little-endian contents, as tritonclient sends it."""
    tensor = pb.ModelInferRequest.InferInputTensor(name="features", datatype="FP32", shape=[len(ROWS), 4])
    values = flat(ROWS)
    return pb.ModelInferRequest(
        model_name=model,
        id=request_id,
        inputs=[tensor],
        raw_input_contents=[struct.pack("<%df" % len(values), *values)],
    )


def typed_request(model, request_id):
    """A request with typed contents."""
    tensor = pb.ModelInferRequest.InferInputTensor(
        name="features",
        datatype="FP32",
        shape=[len(ROWS), 4],
        contents=pb.InferTensorContents(fp32_contents=flat(ROWS)),
    )
    return pb.ModelInferRequest(model_name=model, id=request_id, inputs=[tensor])


def outputs_of(response):
    """{output name: flat list of values}, from raw or typed contents."""
    result = {}
    for i, output in enumerate(response.outputs):
        if response.raw_output_contents:
            raw = response.raw_output_contents[i]
            fmt = {"FP32": "f", "FP64": "d", "INT32": "i", "INT64": "q"}[output.datatype]
            size = struct.calcsize(fmt)
            result[output.name] = list(struct.unpack("<%d%s" % (len(raw) // size, fmt), raw))
        elif output.datatype == "FP32":
            result[output.name] = list(output.contents.fp32_contents)
        else:
            result[output.name] = list(output.contents.int64_contents)
    return result


def refusal(call):
    """The status code name and details of a call that should fail."""
    try:
        call()
    except grpc.RpcError as err:
        return {"code": err.code().name, "details": err.details()}
    return {"code": "OK"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", required=True, help="host:port of the inference server")
    parser.add_argument("--model", required=True, help="the served model's registered name")
    args = parser.parse_args()
    with grpc.insecure_channel(args.target) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name=args.model), timeout=10)
        raw = stub.ModelInfer(raw_request(args.model, "raw-1"), timeout=10)
        typed = stub.ModelInfer(typed_request(args.model, "typed-1"), timeout=10)
        bad_type = raw_request(args.model, "bad")
        bad_type.inputs[0].datatype = "BYTES"
        stream = list(
            stub.ModelStreamInfer(
                iter([raw_request(args.model, "s1"), raw_request("resnet", "s2"), typed_request(args.model, "s3")]),
                timeout=10,
            )
        )
        result = {
            "live": stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live,
            "ready": stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready,
            "server": stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=10).name,
            "metadata": {
                "name": metadata.name,
                "versions": list(metadata.versions),
                "inputs": [[t.name, t.datatype, list(t.shape)] for t in metadata.inputs],
            },
            "raw": {"id": raw.id, "version": raw.model_version, "outputs": outputs_of(raw)},
            "typed": {"id": typed.id, "outputs": outputs_of(typed)},
            "unknown_model": refusal(lambda: stub.ModelInfer(raw_request("resnet", "x"), timeout=10)),
            "bad_datatype": refusal(lambda: stub.ModelInfer(bad_type, timeout=10)),
            "stream": sorted(
                [
                    {
                        "id": answer.infer_response.id,
                        "error": answer.error_message,
                        "outputs": outputs_of(answer.infer_response) if not answer.error_message else {},
                    }
                    for answer in stream
                ],
                key=lambda a: a["id"],
            ),
        }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
