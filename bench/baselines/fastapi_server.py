"""Baseline: the stack mlpipe replaces.

A FastAPI + uvicorn + scikit-learn service answering POST /predict one row per request, as the
typical Python model service does: a LogisticRegression trained at startup on the iris CSV,
``predict_proba`` per request. It answers the same JSON shape as mlpipe's /predict.

    python3 bench/baselines/fastapi_server.py --port 8000 --csv data/iris.csv --workers 2
"""

import argparse
import csv
import os
import time

import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.linear_model import LogisticRegression


def train(path: str) -> LogisticRegression:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[k]) for k in list(r)[:4]] for r in rows], dtype=np.float64)
    names = sorted({r["species"] for r in rows})
    y = np.array([names.index(r["species"]) for r in rows])
    return LogisticRegression(max_iter=1000).fit(x, y)


class PredictRequest(BaseModel):
    features: list[float]


def create_app(csv_path: str) -> FastAPI:
    model = train(csv_path)
    app = FastAPI()

    @app.post("/predict")
    def predict(req: PredictRequest) -> dict:
        started = time.perf_counter()
        probabilities = model.predict_proba(np.array([req.features], dtype=np.float64))[0]
        label = int(np.argmax(probabilities))
        return {
            "prediction": label,
            "probability": float(probabilities[label]),
            "model_version": "1",
            "latency_ms": (time.perf_counter() - started) * 1000,
        }

    @app.get("/health")
    def health() -> dict:
        return {"status": "healthy"}

    return app


def app_factory() -> FastAPI:
    """Used by uvicorn's worker processes (--workers > 1 needs an import string)."""
    return create_app(os.environ["BENCH_IRIS_CSV"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--csv", default="data/iris.csv")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ["BENCH_IRIS_CSV"] = os.path.abspath(args.csv)
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run(
        "fastapi_server:app_factory",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
