"""Where an operator command acts: ONE resolver from `--stage` to region, tables and DynamoDB endpoint.

Every command in `ops/` runs through `run_command`, which resolves the stage, prints where it acts
(on stderr, so stdout stays the command's output), points chalicelib at it, and refuses clearly:

- `local`: `make dev`'s DynamoDB, honouring the variables `make dev` honours: `DYNAMODB_PORT` (default
  8001), or a full `DYNAMODB_HOST` URL; `TABLE_PREFIX` (default `vip-local`); dummy credentials.
- `dev`, `prod`: the deployed tables `vip-<stage>-*` in `AWS_REGION`/`AWS_DEFAULT_REGION` (default
  us-east-1) with your AWS credentials. Local-only variables (`DYNAMODB_HOST`, `TABLE_PREFIX`) are
  ignored there, so a shell left over from `make dev` cannot redirect a production command. Commands
  that write ask for confirmation unless `--yes`.

Exit code 2, each with its own message: an unknown stage, missing AWS credentials, an unreachable endpoint.
chalicelib reads its settings once, at import, so the command imports it only after `use_stage`.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

LOCAL = "local"
DEPLOYED = ("dev", "prod")
STAGES = (LOCAL, *DEPLOYED)
DEFAULT_REGION = "us-east-1"
DEFAULT_DYNAMODB_PORT = 8001


class StageError(Exception):
    """The command cannot act where it was asked to; `exit_code` says how it ends."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Target:
    stage: str
    region: str
    table_prefix: str
    # The DynamoDB endpoint URL; None means AWS's own endpoint for the region.
    endpoint: str | None

    @property
    def deployed(self) -> bool:
        return self.stage in DEPLOYED

    @property
    def endpoint_label(self) -> str:
        return self.endpoint or f"https://dynamodb.{self.region}.amazonaws.com"

    def describe(self) -> str:
        return (
            f"stage {self.stage}: DynamoDB {self.endpoint_label}, "
            f"tables {self.table_prefix}-*, region {self.region}"
        )


def resolve(stage: str, environ: Mapping[str, str] = os.environ) -> Target:
    """The target of `--stage`, from the environment; no I/O."""
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    if stage == LOCAL:
        endpoint = environ.get("DYNAMODB_HOST", "").strip()
        if not endpoint:
            port = environ.get("DYNAMODB_PORT", "").strip() or str(DEFAULT_DYNAMODB_PORT)
            if not port.isdigit():
                raise StageError(f"DYNAMODB_PORT must be a port number, got {port!r}.")
            endpoint = f"http://127.0.0.1:{port}"
        return Target(LOCAL, region, environ.get("TABLE_PREFIX", "").strip() or "vip-local", endpoint)
    if stage in DEPLOYED:
        return Target(stage, region, f"vip-{stage}", None)
    raise StageError(f"Unknown stage {stage!r}: use one of {', '.join(STAGES)}.")


def _point_chalicelib_at(target: Target) -> None:
    os.environ["STAGE"] = target.stage
    os.environ["TABLE_PREFIX"] = target.table_prefix
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = target.region
    if target.endpoint is None:
        os.environ.pop("DYNAMODB_HOST", None)
    else:
        os.environ["DYNAMODB_HOST"] = target.endpoint
        # moto accepts any credentials; never send real ones to a local endpoint.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    loaded = sys.modules.get("chalicelib.settings")
    if loaded is not None:
        settings = loaded.settings
        if (settings.table_prefix, settings.dynamodb_host) != (target.table_prefix, target.endpoint):
            raise StageError(
                f"chalicelib is already loaded for tables {settings.table_prefix}-* at "
                f"{settings.dynamodb_host or 'AWS'}; run the command in a fresh process."
            )


def _check_credentials(target: Target) -> None:
    import botocore.session

    if botocore.session.Session().get_credentials() is None:
        raise StageError(
            f"No AWS credentials for stage {target.stage}: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY), or log in with `aws sso login`."
        )


def _check_reachable(target: Target, timeout: float = 2.0) -> None:
    parts = urlsplit(target.endpoint_label)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        hint = " Is `make dev` running (with the same DYNAMODB_PORT)?" if target.stage == LOCAL else ""
        raise StageError(
            f"Cannot reach DynamoDB at {target.endpoint_label} ({exc.strerror or exc}).{hint}"
        ) from exc


def _confirm(target: Target, action: str, ask: Callable[[str], str]) -> None:
    try:
        answer = ask(f"This will {action} in {target.stage} ({target.table_prefix}-*, {target.region}). "
                     f"Type the stage name to go on: ")  # fmt: skip
    except EOFError:
        answer = ""
    if answer.strip() != target.stage:
        raise StageError("Not confirmed; nothing was changed.", exit_code=1)


def use_stage(
    stage: str,
    *,
    writes: str | None = None,
    yes: bool = False,
    out: TextIO | None = None,
    ask: Callable[[str], str] = input,
) -> Target:
    """Resolve `stage`, say where the command acts, check it can, and point chalicelib at it.

    `writes` describes what the command is about to change ("mint an API key"); on a deployed stage
    that needs a typed confirmation unless `yes`.
    """
    target = resolve(stage)
    print(target.describe(), file=out or sys.stderr, flush=True)
    _point_chalicelib_at(target)
    if target.deployed:
        _check_credentials(target)
    if writes is not None and target.deployed and not yes:
        _confirm(target, writes, ask)
    _check_reachable(target)
    return target


def add_stage_arguments(parser: argparse.ArgumentParser, *, writes: bool) -> None:
    parser.add_argument("--stage", default=LOCAL, help=f"where to act: {', '.join(STAGES)} (default local)")
    if writes:
        parser.add_argument("--yes", action="store_true", help="write to a deployed stage without asking")


def run_command(
    stage: str,
    body: Callable[[Target], int],
    *,
    writes: str | None = None,
    yes: bool = False,
    ask: Callable[[str], str] = input,
) -> int:
    """Run a command's `body` against `stage`; every refusal or outage is one clear line and exit code 2."""
    try:
        target = use_stage(stage, writes=writes, yes=yes, ask=ask)
    except StageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    from chalicelib.errors import ApiError, InternalError, UpstreamError

    try:
        return body(target)
    except UpstreamError as exc:
        print(f"error: DynamoDB at {target.endpoint_label} did not answer ({exc.message})", file=sys.stderr)
        return 2
    except InternalError as exc:
        print(f"error: {exc.message} (stage {target.stage}, {target.endpoint_label})", file=sys.stderr)
        return 2
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
