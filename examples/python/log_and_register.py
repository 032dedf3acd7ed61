#!/usr/bin/env python3
"""Log a run to mlpipe and register its ONNX model, from Python with the standard library only.

It speaks the Connect protocol (https://connectrpc.com/docs/protocol) with JSON bodies over
HTTP/1.1, which every mlpipe server accepts on its one port:

* unary calls are a POST of a JSON message to /<package>.<Service>/<Method>
  (Content-Type: application/json); a failure answers a non-200 status with
  {"code": "not_found", "message": "..."};
* UploadArtifact is a client stream: the body is a sequence of envelopes (one flags byte, a 4-byte
  big-endian length, then that many bytes of JSON), sent with chunked transfer encoding, so the
  file is streamed and never held in memory whole (Content-Type: application/connect+json). The
  answer is enveloped the same way and ends with an end-of-stream envelope (flags 0x02) that
  carries the error, if any.

Usage:
  python3 log_and_register.py --url http://127.0.0.1:5000 --model model.onnx \
      [--experiment python-example] [--run-name NAME] \
      [--register iris-classifier [--stage Staging] [--alias champion]]

With authentication on (REGISTRY_AUTH=token), set MLPIPE_TOKEN to an API token (or an OIDC JWT):
it is sent as `Authorization: Bearer <token>`. For a registry serving TLS with a private CA, set
MLPIPE_CA_FILE to the CA's PEM bundle (trusted beside the system's).

It prints one JSON line: {"run_id", "experiment_id", "artifact", "duplicate_retry", and with
--register "model_name", "version", "stage"}. Errors go to stderr as "<code>: <message>" with exit
status 1; a run that was created is then marked FAILED.
"""

import argparse
import base64
import hashlib
import json
import os
import ssl
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid

TRACKING = "mlpipe.tracking.v1.TrackingService"
REGISTRY = "mlpipe.registry.v1.RegistryService"

# Bytes of the model file per UploadArtifact chunk message (the server streams 64 KiB to 1 MiB best).
CHUNK_BYTES = 256 * 1024
# Connect envelope flag of the end-of-stream message.
END_STREAM = 0x02
STAGES = ("None", "Staging", "Production", "Archived")


class RpcError(Exception):
    """A call failed: `code` is the Connect code name ("not_found", "unavailable", ...)."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Client:
    """Calls mlpipe's RPCs with Connect JSON over HTTP/1.1."""

    def __init__(self, base_url, timeout_s=60.0, actor=None, token=None, ca_file=None):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.actor = actor
        self.token = token
        # The system's trust store, plus the private CA a TLS registry's certificate may come from.
        self.context = ssl.create_default_context()
        if ca_file:
            self.context.load_verify_locations(cafile=ca_file)

    def _headers(self, content_type):
        headers = {"Content-Type": content_type, "Connect-Protocol-Version": "1"}
        if self.actor:
            headers["mlpipe-actor"] = self.actor
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        return headers

    def call(self, service, method, message):
        """A unary call: sends `message` (a dict in protobuf JSON form), returns the answer as a dict."""
        request = urllib.request.Request(
            f"{self.base_url}/{service}/{method}",
            data=json.dumps(message).encode("utf-8"),
            headers=self._headers("application/json"),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s, context=self.context) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            raise _error_from_body(err.code, err.read()) from None
        except urllib.error.URLError as err:
            raise RpcError("unavailable", f"cannot reach {self.base_url}: {err.reason}") from None

    def client_stream(self, service, method, messages):
        """A client-streaming call: sends every dict of the iterable `messages`, returns the one answer."""

        def envelopes():
            for message in messages:
                data = json.dumps(message).encode("utf-8")
                yield struct.pack(">BI", 0, len(data)) + data

        request = urllib.request.Request(
            f"{self.base_url}/{service}/{method}",
            data=envelopes(),  # an iterable body is sent with Transfer-Encoding: chunked
            headers=self._headers("application/connect+json"),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s, context=self.context) as response:
                body = response.read()
        except urllib.error.HTTPError as err:
            raise _error_from_body(err.code, err.read()) from None
        except urllib.error.URLError as err:
            raise RpcError("unavailable", f"cannot reach {self.base_url}: {err.reason}") from None
        answer = None
        offset = 0
        while offset + 5 <= len(body):
            flags, length = struct.unpack_from(">BI", body, offset)
            payload = json.loads(body[offset + 5 : offset + 5 + length] or b"{}")
            offset += 5 + length
            if flags & END_STREAM:
                if "error" in payload:
                    raise RpcError(payload["error"].get("code", "unknown"), payload["error"].get("message", ""))
            else:
                answer = payload
        if answer is None:
            raise RpcError("internal", "the stream ended without an answer")
        return answer


def _error_from_body(status, body):
    try:
        error = json.loads(body)
        # Connect errors are {"code", "message"}; mlpipe's plain HTTP routes (404 for an unknown
        # path) wrap the same fields in {"error": {...}}.
        error = error.get("error", error) if isinstance(error, dict) else {}
        return RpcError(error.get("code", "unknown"), error.get("message", f"HTTP {status}"))
    except ValueError:
        return RpcError("unknown", f"HTTP {status}: {body[:200]!r}")


def get_or_create_experiment(client, name):
    """The id of the active experiment named `name`, created if there is none."""
    try:
        found = client.call(TRACKING, "GetExperimentByName", {"name": name})["experiment"]
        if found.get("lifecycleStage") == "LIFECYCLE_STAGE_ACTIVE":
            return found["experimentId"]
    except RpcError as err:
        if err.code != "not_found":
            raise
    try:
        return client.call(TRACKING, "CreateExperiment", {"name": name})["experiment"]["experimentId"]
    except RpcError as err:
        if err.code != "already_exists":  # another client created it meanwhile
            raise
        return client.call(TRACKING, "GetExperimentByName", {"name": name})["experiment"]["experimentId"]


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_artifact(client, run_id, local_path, artifact_path):
    """Streams a file to the run's artifacts; the server checks it against the SHA-256 sent first."""

    def messages():
        yield {"header": {"runId": run_id, "path": artifact_path, "expectedSha256": sha256_file(local_path)}}
        with open(local_path, "rb") as f:
            for block in iter(lambda: f.read(CHUNK_BYTES), b""):
                yield {"chunk": base64.b64encode(block).decode("ascii")}

    return client.client_stream(TRACKING, "UploadArtifact", messages())["file"]


def log_batch(client, run_id, metrics=(), params=(), tags=(), batch_id=None):
    """One LogBatch call; with the same batch_id a retry is acknowledged without storing twice."""
    return client.call(
        TRACKING,
        "LogBatch",
        {
            "runId": run_id,
            "metrics": list(metrics),
            "params": list(params),
            "tags": list(tags),
            "batchId": batch_id or str(uuid.uuid4()),
        },
    )


def register(client, name, source, stage=None, alias=None):
    """Registers a version of model `name` from `source`, then optionally stages and aliases it."""
    try:
        client.call(REGISTRY, "CreateRegisteredModel", {"name": name})
    except RpcError as err:
        if err.code != "already_exists":
            raise
    version = client.call(REGISTRY, "CreateModelVersion", {"name": name, "source": source})["modelVersion"]
    if version.get("status") != "MODEL_VERSION_STATUS_READY":
        raise RpcError("failed_precondition", f"version {version['version']} was not registered: {version.get('statusMessage', '')}")
    if stage is not None:
        version = client.call(
            REGISTRY,
            "TransitionModelVersionStage",
            {
                "name": name,
                "version": version["version"],
                "stage": f"STAGE_{stage.upper()}",
                "archiveExistingVersions": stage in ("Staging", "Production"),
            },
        )["modelVersion"]
    if alias is not None:
        client.call(REGISTRY, "SetRegisteredModelAlias", {"name": name, "alias": alias, "version": version["version"]})
    return version


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000", help="tracking + registry server URL")
    parser.add_argument("--model", required=True, help="ONNX file to upload as model/model.onnx")
    parser.add_argument("--experiment", default="python-example")
    parser.add_argument("--run-name", default="")
    parser.add_argument("--register", metavar="MODEL_NAME", help="register the model under this name")
    parser.add_argument("--stage", choices=STAGES, help="move the registered version to this stage")
    parser.add_argument("--alias", help="point this alias at the registered version")
    args = parser.parse_args(argv)
    client = Client(
        args.url,
        actor="python-example",
        token=os.environ.get("MLPIPE_TOKEN") or None,
        ca_file=os.environ.get("MLPIPE_CA_FILE") or None,
    )

    run_id = None
    finished = False
    try:
        experiment_id = get_or_create_experiment(client, args.experiment)
        run = client.call(
            TRACKING,
            "CreateRun",
            {"experimentId": experiment_id, "runName": args.run_name, "tags": [{"key": "mlpipe.source", "value": "python"}]},
        )["run"]
        run_id = run["info"]["runId"]

        now_ms = int(time.time() * 1000)
        batch_id = str(uuid.uuid4())
        metrics = [{"key": "loss", "value": 1.0 / (step + 1), "timestamp": now_ms, "step": step} for step in range(10)]
        params = [{"key": "python", "value": sys.version.split()[0]}, {"key": "epochs", "value": "10"}]
        log_batch(client, run_id, metrics=metrics, params=params, batch_id=batch_id)
        # A retry of the same batch (say, after a timeout) is acknowledged without storing it again.
        duplicate = log_batch(client, run_id, metrics=metrics, params=params, batch_id=batch_id).get("duplicate", False)

        artifact = upload_artifact(client, run_id, args.model, "model/model.onnx")
        client.call(TRACKING, "UpdateRun", {"runId": run_id, "status": "RUN_STATUS_FINISHED"})
        finished = True

        result = {
            "run_id": run_id,
            "experiment_id": experiment_id,
            "artifact": artifact,
            "duplicate_retry": duplicate,
        }
        if args.register:
            version = register(client, args.register, f"runs:/{run_id}/model/model.onnx", args.stage, args.alias)
            result.update(model_name=version["name"], version=int(version["version"]), stage=version.get("currentStage"))
        print(json.dumps(result))
        return 0
    except RpcError as err:
        print(f"{err.code}: {err.message}", file=sys.stderr)
        if run_id is not None and not finished:
            try:
                client.call(TRACKING, "UpdateRun", {"runId": run_id, "status": "RUN_STATUS_FAILED"})
            except RpcError:
                pass  # the error above is the one to report
        return 1


if __name__ == "__main__":
    sys.exit(main())
