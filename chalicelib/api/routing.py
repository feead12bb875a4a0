"""Every route is declared through `endpoint`: auth, validation, idempotency, rendering, errors.

A route function receives a typed `Call` and returns a msgspec-encodable value (or a `Reply`);
it never touches DynamoDB or Stripe itself. The declarations double as the OpenAPI registry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

import msgspec
from chalice.app import Blueprint, Response

from chalicelib import clock, log
from chalicelib.domain.catalog import ID_PATTERN
from chalicelib.errors import ApiError, ConflictError, InternalError, ValidationError, error_body
from chalicelib.services.api_keys import Caller, Role, authenticate, require_role
from chalicelib.settings import settings
from chalicelib.store import idempotency as idempotency_store
from chalicelib.store.base import translate_storage_errors

B = TypeVar("B")
Q = TypeVar("Q")

logger = log.get_logger("api")
_ID = re.compile(ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
JSON = "application/json"


class NoBody(msgspec.Struct):
    """Marker: the endpoint takes no body."""


class NoQuery(msgspec.Struct):
    """Marker: the endpoint takes no query parameters."""


@dataclass(slots=True)
class Reply:
    """A response with an explicit status or content type (CSV, 200 replays, 204)."""

    body: Any
    status: int = 200
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Call(Generic[B, Q]):
    """What a route function gets: the authenticated caller and the validated inputs."""

    caller: Caller | None
    path: dict[str, str]
    body: B
    query: Q
    headers: dict[str, str]
    raw_body: bytes


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    method: str
    path: str
    summary: str
    tag: str
    roles: tuple[Role, ...] | None
    body: type
    query: type
    response: Any
    status: int
    errors: tuple[int, ...]
    idempotent: bool
    content_type: str
    path_params: tuple[str, ...]
    description: str = ""


REGISTRY: list[EndpointSpec] = []
_PATH_PARAM = re.compile(r"{(\w+)}")

STOREFRONT: tuple[Role, ...] = ("storefront", "brand")
BRAND: tuple[Role, ...] = ("brand",)
PUBLIC = None


def endpoint(
    blueprint: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    roles: tuple[Role, ...] | None,
    body: type = NoBody,
    query: type = NoQuery,
    response: Any = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    idempotent: bool | None = None,
    content_type: str = JSON,
    description: str = "",
) -> Callable[[Callable[[Call[Any, Any]], Any]], Callable[[Call[Any, Any]], Any]]:
    """Register a route on `blueprint` and in the OpenAPI registry."""
    spec = EndpointSpec(
        method=method,
        path=path,
        summary=summary,
        tag=tag,
        roles=roles,
        body=body,
        query=query,
        response=response,
        status=status,
        errors=errors,
        idempotent=(method == "POST") if idempotent is None else idempotent,
        content_type=content_type,
        path_params=tuple(_PATH_PARAM.findall(path)),
        description=description,
    )
    REGISTRY.append(spec)

    def decorate(fn: Callable[[Call[Any, Any]], Any]) -> Callable[[Call[Any, Any]], Any]:
        @functools.wraps(fn)
        def view(**path_params: str) -> Response:
            return _handle(blueprint, spec, fn, path_params)

        # Chalice derives the view's arguments from the function signature.
        view.__signature__ = _signature(spec.path_params)  # type: ignore[attr-defined]
        blueprint.route(path, methods=[method], content_types=[JSON, "application/json; charset=utf-8"])(view)
        return fn

    return decorate


def _signature(names: tuple[str, ...]) -> Any:
    import inspect

    return inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str) for n in names]
    )


def render(reply: Reply) -> Response:
    if reply.content_type == JSON:
        body: Any = msgspec.json.encode(reply.body).decode() if reply.body is not None else ""
    else:
        body = reply.body
    headers: dict[str, str | list[str]] = {"Content-Type": reply.content_type, **reply.headers}
    return Response(body=body, status_code=reply.status, headers=headers)


def render_error(error: ApiError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": JSON}
    return Response(body=json.dumps(error_body(error)), status_code=error.status, headers=headers)


def _decode_error_param(message: str) -> tuple[str, str | None]:
    """msgspec's 'Expected `int` - at `$.items[0].quantity`' → (message, 'items[0].quantity')."""
    text, _, where = message.partition(" - at `$")
    path = where.rstrip("`").lstrip(".") if where else ""
    named = re.search(r"(?:missing required field|unknown field) `([^`]+)`", text)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    return text, (path or None)


def parse_body(raw: bytes, type_: type[B]) -> B:
    """Decode and validate a JSON body; the error names the offending field."""
    if not raw.strip():
        raw = b"{}"
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        text, param = _decode_error_param(str(exc))
        raise ValidationError(f"Invalid request body: {text}.", param=param) from exc
    except msgspec.DecodeError as exc:
        raise ValidationError(f"The body is not valid JSON: {exc}.", code="invalid_json") from exc


def parse_query(params: dict[str, str], type_: type[Q]) -> Q:
    try:
        return msgspec.convert(params, type=type_, strict=False)
    except msgspec.ValidationError as exc:
        text, param = _decode_error_param(str(exc))
        raise ValidationError(f"Invalid query parameter: {text}.", param=param) from exc


def _validate_path(spec: EndpointSpec, params: dict[str, str]) -> dict[str, str]:
    decoded = {}
    for name in spec.path_params:
        value = unquote(params.get(name, ""))
        if not _ID.match(value):
            raise ValidationError(
                f"`{name}` must be 1–128 characters of A-Z a-z 0-9 . _ : @ -.", param=name, code="invalid_id"
            )
        decoded[name] = value
    return decoded


def _handle(
    blueprint: Blueprint, spec: EndpointSpec, fn: Callable[[Call[Any, Any]], Any], params: dict[str, str]
) -> Response:
    request = blueprint.current_request
    started = time.perf_counter()
    request_id = (request.context or {}).get("requestId")
    log.clear(request_id=request_id, route=f"{spec.method} {spec.path}")
    status = 500
    try:
        headers = {k.lower(): v for k, v in request.headers.items()}
        caller = None
        if spec.roles is not None:
            caller = authenticate(headers.get("authorization"))
            require_role(caller, spec.roles)
            log.bind(api_key_id=caller.key_id)
        path = _validate_path(spec, params)
        log.bind(
            **{k: v for k, v in path.items() if k in ("customer_ref", "order_id", "plan_id", "cause_id")}
        )
        raw = request.raw_body or b""
        if isinstance(raw, str):
            raw = raw.encode()
        body = parse_body(raw, spec.body) if spec.body is not NoBody else NoBody()
        query: Any = parse_query(dict(request.query_params or {}), spec.query)
        call: Call[Any, Any] = Call(caller, path, body, query, headers, raw)
        key = headers.get("idempotency-key")
        if spec.idempotent and key is not None:
            response = _idempotent(spec, call, fn, key, request.path)
        else:
            response = _reply(spec, fn(call))
        status = response.status_code
        return response
    except ApiError as exc:
        status = exc.status
        if exc.status >= 500:
            logger.error("request failed", extra={"error": exc.code, "detail": exc.message})
        return render_error(exc)
    except Exception:
        logger.exception("unhandled error")
        return render_error(InternalError("An internal error occurred; it has been logged."))
    finally:
        logger.info(
            "request",
            extra={"status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
        )


def _reply(spec: EndpointSpec, result: Any) -> Response:
    reply = result if isinstance(result, Reply) else Reply(result, spec.status)
    return render(reply)


def _idempotent(
    spec: EndpointSpec, call: Call[Any, Any], fn: Callable[[Call[Any, Any]], Any], key: str, path: str
) -> Response:
    """Run a POST at most once per Idempotency-Key: a retry replays the first response."""
    if not _IDEMPOTENCY_KEY.match(key):
        raise ValidationError(
            "Idempotency-Key must be 1–255 visible ASCII characters.", param="Idempotency-Key"
        )
    caller_id = call.caller.key_id if call.caller else "public"
    record_key = idempotency_store.request_key(caller_id, spec.method, path, key)
    try:
        canonical = json.dumps(json.loads(call.raw_body or b"{}"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = call.raw_body.decode(errors="replace")
    request_hash = hashlib.sha256(f"{spec.method} {path}\n{canonical}".encode()).hexdigest()
    now = clock.now()
    expires_at = now + timedelta(hours=settings.idempotency_ttl_hours)
    with translate_storage_errors():
        previous = idempotency_store.claim(record_key, request_hash, now, expires_at)
    if previous is not None:
        if previous.request_hash != request_hash:
            raise ConflictError(
                "This Idempotency-Key was used with a different request.",
                param="Idempotency-Key",
                code="idempotency_key_reused",
            )
        if previous.state != idempotency_store.COMPLETE or previous.status_code is None:
            raise ConflictError(
                "A request with this Idempotency-Key is still in progress; retry shortly.",
                param="Idempotency-Key",
                code="idempotency_in_progress",
            )
        return Response(
            body=previous.body or "",
            status_code=previous.status_code,
            headers={"Content-Type": JSON, "Idempotent-Replayed": "true"},
        )
    try:
        response = _reply(spec, fn(call))
    except ApiError as exc:
        response = render_error(exc)
    except Exception:
        with translate_storage_errors():
            idempotency_store.release(record_key)
        raise
    with translate_storage_errors():
        if response.status_code >= 500:
            # Transient failures are not remembered: the client's retry runs the request again.
            idempotency_store.release(record_key)
        else:
            body = response.body if isinstance(response.body, str) else json.dumps(response.body)
            idempotency_store.complete(record_key, request_hash, response.status_code, body, expires_at)
    return response
