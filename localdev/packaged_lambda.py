"""Run the deployment package as Lambda runs it: unpacked into a read-only directory, a fresh Python with
no site-packages and `PYTHONDONTWRITEBYTECODE=1`, the handler named by the template, invoked with
API Gateway proxy and EventBridge scheduled events.

The process stays up between invocations (a warm container); events go in and results come out as
JSON lines on a private pipe, so whatever the code prints (its JSON logs) stays on its own stdout.
Each result also carries how long the invocation took inside the process (the first one includes
importing the handler's module: a cold start without the interpreter's own start-up) and the process's
peak memory, for `localdev/bench_package.py`. The package smoke test (`tests/infra`) and the benchmark
both run the package through this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The runtime loop, run with `python -S -c` in the package directory (as /var/task on Lambda).
RUNTIME = r"""
import importlib, json, os, resource, sys, time, traceback

results = os.fdopen(int(os.environ["RESULTS_FD"]), "w")
commands = sys.stdin


class Context:
    def __init__(self, name, timeout_ms):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = "512"
        self.aws_request_id = os.urandom(8).hex()
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "smoke"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def peak_memory_kib():
    # The process's peak resident memory since exec (VmHWM): ru_maxrss would also count what the
    # parent held when it forked this process.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


handlers = {}
for line in commands:
    command = json.loads(line)
    started = time.perf_counter()
    try:
        if command["handler"] not in handlers:
            module, _, attribute = command["handler"].rpartition(".")
            handlers[command["handler"]] = getattr(importlib.import_module(module), attribute)
        outcome = {"result": None}
        for _ in range(command["repeat"]):  # 0: only import the handler
            context = Context(command["function"], command["timeout_ms"])
            outcome["result"] = handlers[command["handler"]](command["event"], context)
    except BaseException:
        outcome = {"error": traceback.format_exc()}
    outcome["elapsed_ms"] = (time.perf_counter() - started) * 1000
    outcome["maxrss_kib"] = peak_memory_kib()
    outcome["modules"] = {
        name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())
    }
    outcome["path"] = sys.path
    results.write(json.dumps(outcome, default=str) + "\n")
    results.flush()
"""


def unpack_read_only(package: Path, directory: Path) -> Path:
    """Unzip as Lambda does into `directory`, then make every file and directory read-only."""
    with zipfile.ZipFile(package) as archive:
        archive.extractall(directory)
    return make_read_only(directory)


def make_read_only(directory: Path) -> Path:
    """Every file and directory below `directory` read-only, as Lambda's /var/task."""
    for root, dirs, files in os.walk(directory):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o555)
    return directory


def tree(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


class PackagedLambda:
    """A warm Lambda container of the package: `invoke(handler, event)` returns the handler's result."""

    def __init__(self, process: subprocess.Popen[str], results: Any, captured: Path, timeout_ms: int) -> None:
        self._process = process
        self._results = results
        self._captured = captured
        self.timeout_ms = timeout_ms
        self.modules: dict[str, str | None] = {}
        self.path: list[str] = []
        # Of the last invocation: its time inside the process, and the process's peak memory so far.
        self.elapsed_ms = 0.0
        self.maxrss_kib = 0

    def invoke(
        self, handler: str, event: dict[str, Any] | None, function: str = "APIHandler", repeat: int = 1
    ) -> Any:
        """The handler's result for `event` (called `repeat` times in a row; 0: only import its module)."""
        assert self._process.stdin is not None
        command = {"handler": handler, "event": event, "function": function, "timeout_ms": self.timeout_ms,
                   "repeat": repeat}  # fmt: skip
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()
        line = self._results.readline()
        assert line, f"the Lambda process died:\n{self.output()}"
        outcome = json.loads(line)
        self.modules, self.path = outcome["modules"], outcome["path"]
        self.elapsed_ms, self.maxrss_kib = outcome["elapsed_ms"], outcome["maxrss_kib"]
        assert "error" not in outcome, outcome["error"]
        return outcome["result"]

    def output(self) -> str:
        """What the code wrote to stdout and stderr so far (its log lines); complete once stopped."""
        return self._captured.read_text()

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines the code wrote (anything else it printed is not a log line)."""
        lines = []
        for line in self.output().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return [line for line in lines if isinstance(line, dict)]


@contextmanager
def packaged_lambda(
    directory: Path, environment: dict[str, str], timeout_ms: int = 20_000, runtime_dir: Path | None = None
) -> Iterator[PackagedLambda]:
    """Start a fresh interpreter on the unpacked package (cwd and first entry of the path: the package).

    `runtime_dir`, when given, comes after it on the path: what the Lambda runtime itself provides (boto3).
    """
    read_end, write_end = os.pipe()
    captured = directory.parent / f"lambda-output-{uuid.uuid4().hex}.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(str(p) for p in (directory, runtime_dir) if p is not None),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "LAMBDA_TASK_ROOT": str(directory),
        "AWS_LAMBDA_FUNCTION_NAME": "APIHandler",
        "RESULTS_FD": str(write_end),
        **environment,
    }
    with captured.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-S", "-c", RUNTIME],
            cwd=directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=sink,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            text=True,
        )
    os.close(write_end)
    results = os.fdopen(read_end, "r")
    runtime = PackagedLambda(process, results, captured, timeout_ms)
    try:
        yield runtime
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)
        results.close()


def api_event(
    method: str,
    resource: str,
    path: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event, as the `prod` stage passes it to the function."""
    path = path or resource
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    all_headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    if text is not None and not any(k.lower() == "content-type" for k in all_headers):
        all_headers["Content-Type"] = "application/json"
    parameters = _path_parameters(resource, path)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "smoke"},
            "accountId": "123456789012",
            "apiId": "abc123",
        },
        "body": text,
        "isBase64Encoded": False,
    }


def scheduled_event() -> dict[str, Any]:
    """What EventBridge passes to the hourly reconciliation."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-23T10:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/ReconcileMembers"],
        "detail": {},
    }


def _path_parameters(resource: str, path: str) -> dict[str, str]:
    parameters = {}
    for template, value in zip(resource.split("/"), path.split("/"), strict=True):
        if template.startswith("{") and template.endswith("}"):
            parameters[template[1:-1]] = value
    return parameters
