#!/usr/bin/env python3
"""Make the requests MLflow's Python client makes, with the standard library only.

This is what these lines of MLflow training code send to a tracking server (MLflow 2.x,
mlflow/store/tracking/rest_store.py, mlflow/store/artifact/http_artifact_repo.py and
mlflow/store/model_registry/rest_store.py), request for request, against mlpipe's registry port:

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", value, step=step)            # a few steps
        mlflow.log_artifact(model, artifact_path="model")      # PUT through the artifact proxy
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    MlflowClient().transition_model_version_stage(name, version.version, stage)
    MlflowClient().get_model_version_download_uri(name, version.version)  # then download it

Usage:
  python3 mlflow_rest_calls.py --url http://127.0.0.1:5000 --model model.onnx \
      [--experiment mlflow-python] [--register iris-classifier [--stage Production]]

It prints one JSON line: {"experiment_id", "run_id", "artifact_uri", and with --register
"model_name", "version", "stage", "download_sha256"}. An MLflow error goes to stderr as
"<error_code>: <message>" with exit status 1, as the client's RestException shows it.
"""

import argparse
import getpass
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

API = "/api/2.0/mlflow/"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts/"
PROXY_SCHEME = "mlflow-artifacts:"


class RestException(Exception):
    """An MLflow error answer: `error_code` is MLflow's ("RESOURCE_DOES_NOT_EXIST", ...)."""

    def __init__(self, status, error_code, message):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code


class Tracking:
    """MLflow's REST calls: GET with a query for reads, POST/PATCH/DELETE with JSON bodies."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, method, endpoint, params):
        url = self.url + API + endpoint
        data = None
        headers = {"User-Agent": "mlflow-python-client (emulated)"}
        if method == "GET":
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        else:
            data = json.dumps(params).encode()
            headers["Content-Type"] = "application/json"
        return self._send(urllib.request.Request(url, data=data, headers=headers, method=method))

    def _send(self, request):
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body = response.read()
                return json.loads(body) if body else {}
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = {"error_code": "INTERNAL_ERROR", "message": body.decode(errors="replace")}
            raise RestException(err.code, parsed.get("error_code"), parsed.get("message")) from None

    def proxied(self, uri):
        """The artifact proxy URL of a `mlflow-artifacts:/...` URI."""
        if not uri.startswith(PROXY_SCHEME):
            raise RestException(0, "INVALID_PARAMETER_VALUE", f"not a proxied artifact URI: {uri}")
        return self.url + ARTIFACTS + urllib.parse.quote(uri[len(PROXY_SCHEME):].lstrip("/"))

    def upload(self, uri, local_path):
        """http_artifact_repo.log_artifact: PUT the file, streamed from disk."""
        with open(local_path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            request = urllib.request.Request(
                self.proxied(uri), data=f, method="PUT", headers={"Content-Length": str(size)}
            )
            return self._send(request)

    def download_sha256(self, uri):
        """Downloads a file through the proxy in chunks; returns its SHA-256."""
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(self.proxied(uri), timeout=60) as response:
                for chunk in iter(lambda: response.read(64 * 1024), b""):
                    digest.update(chunk)
        except urllib.error.HTTPError as err:
            parsed = json.loads(err.read())
            raise RestException(err.code, parsed.get("error_code"), parsed.get("message")) from None
        return digest.hexdigest()


def now_ms():
    return int(time.time() * 1000)


def set_experiment(client, name):
    try:
        found = client.call("GET", "experiments/get-by-name", {"experiment_name": name})
        return found["experiment"]["experiment_id"]
    except RestException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    return client.call("POST", "experiments/create", {"name": name})["experiment_id"]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--experiment", default="mlflow-python")
    parser.add_argument("--register")
    parser.add_argument("--stage", default="Production")
    args = parser.parse_args(argv)
    client = Tracking(args.url)
    out = {}
    try:
        experiment_id = set_experiment(client, args.experiment)
        user = getpass.getuser()
        run = client.call(
            "POST",
            "runs/create",
            {
                "experiment_id": experiment_id,
                "user_id": user,
                "start_time": now_ms(),
                "run_name": "mlflow-python",
                "tags": [
                    {"key": "mlflow.user", "value": user},
                    {"key": "mlflow.source.name", "value": "mlflow_rest_calls.py"},
                    {"key": "mlflow.source.type", "value": "LOCAL"},
                    {"key": "mlflow.runName", "value": "mlflow-python"},
                ],
            },
        )["run"]
        run_id = run["info"]["run_id"]
        ids = {"run_id": run_id, "run_uuid": run_id}
        client.call("POST", "runs/log-parameter", {**ids, "key": "lr", "value": "0.1"})
        for step, loss in enumerate([0.9, 0.5, 0.3]):
            metric = {"key": "loss", "value": loss, "timestamp": now_ms(), "step": step}
            client.call("POST", "runs/log-metric", {**ids, **metric})
        # log_artifact asks the run for its artifact URI, then PUTs below it.
        artifact_uri = client.call("GET", "runs/get", {"run_id": run_id})["run"]["info"]["artifact_uri"]
        client.upload(f"{artifact_uri}/model/model.onnx", args.model)
        client.call("POST", "runs/update", {**ids, "status": "FINISHED", "end_time": now_ms()})
        out = {"experiment_id": experiment_id, "run_id": run_id, "artifact_uri": artifact_uri}

        if args.register:
            name = args.register
            try:
                client.call("POST", "registered-models/create", {"name": name})
            except RestException as err:
                if err.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
            # register_model resolves runs:/<run_id>/model to the run's artifact location.
            version = client.call(
                "POST",
                "model-versions/create",
                {"name": name, "source": f"{artifact_uri}/model", "run_id": run_id},
            )["model_version"]
            while version["status"] == "PENDING_REGISTRATION":
                time.sleep(1)
                version = client.call(
                    "GET", "model-versions/get", {"name": name, "version": version["version"]}
                )["model_version"]
            if version["status"] != "READY":
                raise RestException(0, "INVALID_STATE", version.get("status_message", "registration failed"))
            moved = client.call(
                "POST",
                "model-versions/transition-stage",
                {
                    "name": name,
                    "version": version["version"],
                    "stage": args.stage,
                    "archive_existing_versions": False,
                },
            )["model_version"]
            download = client.call(
                "GET", "model-versions/get-download-uri", {"name": name, "version": version["version"]}
            )["artifact_uri"]
            out.update(
                {
                    "model_name": name,
                    "version": moved["version"],
                    "stage": moved["current_stage"],
                    "download_sha256": client.download_sha256(f"{download}/model.onnx"),
                }
            )
    except RestException as err:
        print(err, file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
