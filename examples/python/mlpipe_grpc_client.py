"""A Python grpcio client of mlpipe's own services, with stubs generated from proto/mlpipe (see the
README, "Python clients"): InferenceService (Predict, PredictBatch, an invalid request) and
TrackingService (CreateExperiment, CreateRun, LogBatch, GetRun). Prints what it got as JSON.

Usage: PYTHONPATH=<stubs> python3 mlpipe_grpc_client.py --inference HOST:PORT --tracking HOST:PORT
"""

import argparse
import json
import struct
import sys

import grpc

from mlpipe.inference.v1 import inference_pb2, inference_pb2_grpc
from mlpipe.tracking.v1 import tracking_pb2, tracking_pb2_grpc

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


def infer(target):
    with grpc.insecure_channel(target) as channel:
        stub = inference_pb2_grpc.InferenceServiceStub(channel)
        one = stub.Predict(inference_pb2.PredictRequest(features=ROWS[0]), timeout=30)
        data = struct.pack("<%df" % (len(ROWS) * 4), *[v for row in ROWS for v in row])
        batch = stub.PredictBatch(
            inference_pb2.PredictBatchRequest(
                inputs=inference_pb2.Tensor(dtype=inference_pb2.DATA_TYPE_FLOAT32, shape=[len(ROWS), 4], data=data)
            ),
            timeout=30,
        )
        try:
            stub.Predict(inference_pb2.PredictRequest(features=[1.0, 2.0]), timeout=30)
            invalid = {"code": "OK", "details": ""}
        except grpc.RpcError as err:
            invalid = {"code": err.code().name, "details": err.details()}
        return {
            "predict": {
                # proto3 optional: HasField tells "class 0" from "not a classifier".
                "has_prediction": one.prediction.HasField("prediction"),
                "prediction": one.prediction.prediction,
                "version": one.model_version,
            },
            "batch": [p.prediction for p in batch.predictions],
            "invalid": invalid,
        }


def track(target):
    with grpc.insecure_channel(target) as channel:
        stub = tracking_pb2_grpc.TrackingServiceStub(channel)
        experiment = stub.CreateExperiment(tracking_pb2.CreateExperimentRequest(name="python-grpc"), timeout=30)
        experiment_id = experiment.experiment.experiment_id
        run = stub.CreateRun(tracking_pb2.CreateRunRequest(experiment_id=experiment_id, run_name="r1"), timeout=30)
        run_id = run.run.info.run_id
        stub.LogBatch(
            tracking_pb2.LogBatchRequest(
                run_id=run_id,
                metrics=[tracking_pb2.Metric(key="loss", value=0.25, timestamp=1, step=0)],
                params=[tracking_pb2.Param(key="lr", value="0.1")],
            ),
            timeout=30,
        )
        got = stub.GetRun(tracking_pb2.GetRunRequest(run_id=run_id), timeout=30)
        return {
            "experiment_id": experiment_id,
            "run_id": run_id,
            "metrics": {m.key: m.value for m in got.run.data.metrics},
            "params": dict(got.run.data.params),
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--inference", required=True)
    parser.add_argument("--tracking", required=True)
    args = parser.parse_args()
    json.dump({"inference": infer(args.inference), "tracking": track(args.tracking)}, sys.stdout)


if __name__ == "__main__":
    main()
