"""Every route is declared through `endpoint`: auth, validation, idempotency, rendering, errors.

A route function receives a typed `Call` and returns a msgspec-encodable value (or a `Reply`);
it never touches DynamoDB or Stripe itself. The declarations double as the OpenAPI registry.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

import msgspec
from chalice.app import Blueprint, Request, Response

from chalicelib import invocation, log
from chalicelib.api import lazy
from chalicelib.api.schemas import MONTH_PATTERN, check_month_range
from chalicelib.domain.catalog import ID_PATTERN
from chalicelib.domain.patterns import whole
from chalicelib.errors import ApiError, InternalError, UnsupportedMediaTypeError, ValidationError, error_body
from chalicelib.services import idempotency
from chalicelib.services.api_keys import Caller, Role, authenticate, authenticate_shopper, require_role
from chalicelib.store.base import PATIENCE, Patience

B = TypeVar("B")
Q = TypeVar("Q")

logger = log.get_logger("api")
_ID = re.compile(ID_PATTERN)
JSON = "application/json"
# `application/json`, optionally with `charset=utf-8` (SPEC: JSON bodies are UTF-8).
_JSON_MEDIA_TYPE = re.compile(r"^application/json\s*(;\s*charset=\"?utf-8\"?\s*)?$", re.IGNORECASE)


class NoBody(msgspec.Struct):
    """Marker: the endpoint takes no body."""


class NoQuery(msgspec.Struct):
    """Marker: the endpoint takes no query parameters."""


class Reply(msgspec.Struct):
    """A response with an explicit status or content type (CSV, 200 replays, 204)."""

    body: Any
    status: int = 200
    content_type: str = JSON
    headers: dict[str, str] = msgspec.field(default_factory=dict)


R = TypeVar("R")
CSV = "text/csv; charset=utf-8"


def report_reply(report: R, format: str, to_csv: Callable[[R], str], filename: str) -> R | Reply:
    """A report as JSON, or for `format=csv` its CSV as a download named `filename`."""
    if format != "csv":
        return report
    disposition = f'attachment; filename="{filename}"'
    return Reply(to_csv(report), content_type=CSV, headers={"Content-Disposition": disposition})


class Call(msgspec.Struct, Generic[B, Q], frozen=True):
    """What a route function gets: the authenticated caller and the validated inputs."""

    caller: Caller | None
    path: dict[str, str]
    body: B
    query: Q
    headers: dict[str, str]
    raw_body: bytes


class Example(msgspec.Struct, frozen=True):
    """One realistic exchange with an endpoint: the OpenAPI examples, docs/api.md and the fuzzer's seeds.

    `request` and `response` are the JSON bodies (as plain data); `path` and `query` fill the path and
    query parameters; `csv` is the `format=csv` answer of a report, or what renders it: a report's rows
    are rendered by the code of its service, imported for the document only (not at start-up).
    """

    response: Any = None
    request: Any = None
    path: dict[str, str] = msgspec.field(default_factory=dict)
    query: dict[str, Any] = msgspec.field(default_factory=dict)
    csv: str | Callable[[], str] | None = None

    def csv_text(self) -> str | None:
        return self.csv() if callable(self.csv) else self.csv


class EndpointSpec(msgspec.Struct, frozen=True):
    method: str
    path: str
    summary: str
    tag: str
    roles: tuple[Role, ...] | None
    # As the route declared them: the type, or a `lazy.declared` name imported when first needed.
    declared_body: Any
    declared_query: Any
    declared_response: Any
    status: int
    errors: tuple[int, ...]
    idempotent: bool
    content_type: str
    path_params: tuple[str, ...]
    description: str = ""
    example: Example | None = None
    csv: bool = False
    patience: Patience = "standard"
    # The route reads the raw body itself (after checking what authenticates it): `body` only documents it.
    raw_body: bool = False

    @property
    def body(self) -> type:
        return lazy.resolve(self.declared_body)  # type: ignore[no-any-return]

    @property
    def query(self) -> type:
        return lazy.resolve(self.declared_query)  # type: ignore[no-any-return]

    @property
    def response(self) -> Any:
        return lazy.resolve(self.declared_response)


REGISTRY: list[EndpointSpec] = []
_PATH_PARAM = re.compile(r"{(\w+)}")

STOREFRONT: tuple[Role, ...] = ("storefront", "brand")
BRAND: tuple[Role, ...] = ("brand",)
# `/v1/shopper/*`: a shopper token (services/shopper_tokens.py) instead of an API key.
SHOPPER: tuple[Role, ...] = ("shopper",)
PUBLIC = None


def endpoint(
    blueprint: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    roles: tuple[Role, ...] | None,
    body: Any = NoBody,
    query: Any = NoQuery,
    response: Any = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    idempotent: bool | None = None,
    content_type: str = JSON,
    description: str = "",
    example: Example | None = None,
    csv: bool = False,
    patience: Patience = "standard",
    raw_body: bool = False,
) -> Callable[[Callable[[Call[Any, Any]], Any]], Callable[[Call[Any, Any]], Any]]:
    """Register a route on `blueprint` and in the OpenAPI registry.

    `body`, `query` and `response` are types, or names of types (`lazy.declared`) imported when first
    needed: a route module need not import the service that declares them.
    """
    spec = EndpointSpec(
        method=method,
        path=path,
        summary=summary,
        tag=tag,
        roles=roles,
        declared_body=body,
        declared_query=query,
        declared_response=response,
        status=status,
        errors=errors,
        idempotent=(method == "POST") if idempotent is None else idempotent,
        content_type=content_type,
        path_params=tuple(_PATH_PARAM.findall(path)),
        description=description,
        example=example,
        csv=csv,
        patience=patience,
        raw_body=raw_body,
    )
    REGISTRY.append(spec)

    def decorate(fn: Callable[[Call[Any, Any]], Any]) -> Callable[[Call[Any, Any]], Any]:
        @functools.wraps(fn)
        def view(**path_params: str) -> Response:
            return _handle(blueprint, spec, fn, path_params)

        # Chalice derives the view's arguments from the function signature.
        view.__signature__ = _signature(spec.path_params)  # type: ignore[attr-defined]
        # Any media type reaches the view, which answers 415 itself (also for a body without one).
        blueprint.route(path, methods=[method], content_types=["*/*"])(view)
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
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return Response(body=json.dumps(error_body(error)), status_code=error.status, headers=headers)


# What each pattern of the contract means, for people: a message never shows a raw regex.
PATTERN_WORDS: dict[str, str] = {
    ID_PATTERN: "1–128 characters of A-Z a-z 0-9 . _ : @ -",
    MONTH_PATTERN: "a month as YYYY-MM, from 2000-01 to 2199-12",
    whole("https?://[!-~]+"): "an absolute http:// or https:// URL in ASCII (percent-encode the rest)",
    whole("[a-z]{3}"): "a lowercase three-letter currency code such as `usd`",
    whole(r"-?[0-9]+\.[0-9]{4}"): "a decimal with 4 places, such as 1.2500",
    idempotency.KEY_PATTERN: "1–255 visible ASCII characters",
}
_REGEX_IN_MESSAGE = re.compile(r"`str` matching regex '(.*)'", re.DOTALL)


def _words_for_regex(text: str) -> str:
    """msgspec's "Expected `str` matching regex '^…$'" → "Expected 1–128 characters of …"."""

    def words(match: re.Match[str]) -> str:
        pattern = match.group(1).replace("\\\\", "\\")
        described = PATTERN_WORDS.get(pattern)
        if described is None:
            described = (
                "an e-mail address" if "@" in pattern else "text in the format the API reference gives"
            )
        return described

    return _REGEX_IN_MESSAGE.sub(words, text)


def _decode_error_param(message: str) -> tuple[str, str | None]:
    """msgspec's 'Expected `int` - at `$.items[0].quantity`' → (message, 'items[0].quantity').

    A refused map key ('Invalid enum value 'xyz' - at `key` in `$.min_subtotal`') is named with the
    key: 'min_subtotal.xyz'.
    """
    text, _, where = message.partition(" - at `")
    key = where.startswith("key` in `")
    path = where.removeprefix("key` in `").rstrip("`").removeprefix("$").lstrip(".")
    refused = re.search(r"value '([^']*)'", text)
    if key and refused:
        path = f"{path}.{refused.group(1)}" if path else refused.group(1)
    named = re.search(r"(?:missing required field|unknown field) `([^`]+)`", text)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    return _words_for_regex(text), (path or None)


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            raise ValidationError(
                f"The body repeats the key `{name}`.", param=name, code="duplicate_json_key"
            )
        seen[name] = value
    return seen


# Integers that JSON Schema (and so the OpenAPI document) calls integers although written with a
# fraction or an exponent: `42000.0`, `4.2e4`. Beyond int64 they stay floats, and a field typed `int`
# refuses them as it refuses `42000.5` (this also keeps `1e999999999` from becoming a huge int).
_INT64 = Decimal(2**63)


def _json_number(literal: str) -> int | float:
    """A JSON number with a fraction or an exponent: an int when its value is whole, else a float."""
    value = Decimal(literal)
    if value.is_finite() and abs(value) < _INT64 and value == value.to_integral_value():
        return int(value)
    return float(literal)


# SPEC: bodies nest at most 32 levels deep (deeper → 400, never the parsers' RecursionError).
MAX_BODY_DEPTH = 32
# JSON strings (which may hold brackets) and the brackets outside them.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_depth(raw: bytes) -> None:
    """Refuse a body whose arrays and objects nest deeper than `MAX_BODY_DEPTH` (400 `body_too_deep`).

    Counted on the bytes before any parser runs: JSON parsers recurse per level, and a body nested a
    thousand levels deep is a few kilobytes.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_BODY_DEPTH:
        return
    depth = 0
    for token in _JSON_TOKEN.finditer(raw):
        char = token.group()
        if char in (b"[", b"{"):
            depth += 1
            if depth > MAX_BODY_DEPTH:
                raise ValidationError(
                    f"The body nests deeper than {MAX_BODY_DEPTH} levels.", code="body_too_deep"
                )
        elif char in (b"]", b"}"):
            depth -= 1


def parse_body(raw: bytes, type_: type[B]) -> B:
    """Decode and validate a JSON body; the error names the offending field.

    The body must be UTF-8 and may not repeat a key in any object (a JSON parser would silently
    keep one of the two values; which one differs between parsers). A whole number is an integer
    however it is written (`42000.0`), as JSON Schema counts it.
    """
    if not raw.strip():
        raw = b"{}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"The body is not valid UTF-8 (byte {exc.start}).", code="invalid_utf8"
        ) from exc
    check_depth(raw)
    try:  # strict JSON (no NaN, no lone surrogates), its syntax errors named with their place
        msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValidationError(f"The body is not valid JSON: {exc}.", code="invalid_json") from exc
    tree = json.loads(text, object_pairs_hook=_refuse_repeated_keys, parse_float=_json_number)
    try:
        return msgspec.convert(tree, type=type_)
    except msgspec.ValidationError as exc:
        text, param = _decode_error_param(str(exc))
        raise ValidationError(f"Invalid request body: {text}.", param=param) from exc


# Headers that decide who is asking, whether a webhook is genuine and whether a POST is a retry: given
# twice, one of the two would silently win (which one differs between proxies), so the request is refused.
SINGLE_HEADERS = ("Authorization", "Stripe-Signature", "Idempotency-Key")


def refuse_repeated_headers(request: Request) -> None:
    """400 `repeated_header` naming the header when one of `SINGLE_HEADERS` is given more than once.

    API Gateway keeps every value in the event's `multiValueHeaders` (and one of them in `headers`);
    the local server (`localdev.local_api`) fills it the same way.
    """
    multi = request.to_original_event().get("multiValueHeaders") or {}
    counts: dict[str, int] = {}
    for name, values in multi.items():
        counts[name.lower()] = counts.get(name.lower(), 0) + len(values or ())
    for name in SINGLE_HEADERS:
        given = counts.get(name.lower(), 0)
        if given > 1:
            raise ValidationError(
                f"The header `{name}` is given {given} times; give it once.",
                param=name, code="repeated_header",
            )  # fmt: skip


def single_query_params(request: Request) -> dict[str, str]:
    """The query parameters, each given at most once (SPEC: a repeated parameter is a 400)."""
    params = request.query_params
    if not params:
        return {}
    single = {}
    for name in params:
        values = params.getlist(name)
        if len(values) > 1:
            raise ValidationError(
                f"The query parameter `{name}` is given {len(values)} times; give it once.",
                param=name, code="repeated_query_parameter",
            )  # fmt: skip
        single[name] = values[0]
    return single


def parse_query(params: dict[str, str], type_: type[Q]) -> Q:
    """Query parameters as strings converted to the declared types (`limit=20` → 20).

    Lax conversion would also read `currency=null` as no filter at all; a parameter that is given
    must have a value of its type (leave it out for none).
    """
    try:
        query = msgspec.convert(params, type=type_, strict=False)
    except msgspec.ValidationError as exc:
        text, param = _decode_error_param(str(exc))
        raise ValidationError(f"Invalid query parameter: {text}.", param=param) from exc
    # Every query type is a Struct.
    for declared in msgspec.structs.fields(type_):  # type: ignore[arg-type]
        if declared.encode_name in params and getattr(query, declared.name) is None:
            raise ValidationError(
                f"Invalid query parameter: `{declared.encode_name}` has no value; leave it out instead.",
                param=declared.encode_name,
            )
    # Every report's month range (`from`, `to`): in order and at most 120 months long.
    if isinstance(params.get("from"), str) and isinstance(params.get("to"), str):
        names = {declared.encode_name for declared in msgspec.structs.fields(type_)}  # type: ignore[arg-type]
        if {"from", "to"} <= names:
            check_month_range(params["from"], params["to"])
    return query


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


def concrete_path(template: str, params: dict[str, str]) -> str:
    """The path as requested (`/v1/orders/A/refunds`), from the route template and its decoded ids.

    Chalice's `request.path` is the template; ids cannot contain `/`, so this is unambiguous.
    """
    return _PATH_PARAM.sub(lambda match: params[match.group(1)], template)


def check_media_type(headers: dict[str, str], raw: bytes) -> None:
    """415 unless a non-empty body is sent as `application/json`."""
    if not raw.strip():
        return
    media_type = headers.get("content-type")
    if media_type is None or not _JSON_MEDIA_TYPE.match(media_type.strip()):
        raise UnsupportedMediaTypeError(
            f"The body must be sent as `Content-Type: application/json`, not {media_type or 'without one'}.",
            param="Content-Type",
        )


def request_id_of(blueprint: Blueprint) -> str | None:
    """API Gateway's request id, else the Lambda invocation's (local runs)."""
    request_id = (blueprint.current_request.context or {}).get("requestId")
    if request_id:
        return str(request_id)
    try:
        context = blueprint.lambda_context
    except (AttributeError, RuntimeError):
        return None
    return getattr(context, "aws_request_id", None)


def remaining_ms_of(blueprint: Blueprint) -> float | None:
    try:
        context = blueprint.lambda_context
    except (AttributeError, RuntimeError):
        return None
    return invocation.remaining_ms_of(context)


def _handle(
    blueprint: Blueprint, spec: EndpointSpec, fn: Callable[[Call[Any, Any]], Any], params: dict[str, str]
) -> Response:
    request = blueprint.current_request
    started = time.perf_counter()
    request_id = request_id_of(blueprint)
    invocation.start(request_id, remaining_ms_of(blueprint))
    log.clear(request_id=request_id, route=f"{spec.method} {spec.path}")
    status = 500
    response: Response | None = None
    # How long this route may wait on DynamoDB, from the key check on (the hot path gives up after 1 s).
    patience = PATIENCE.set(spec.patience)
    try:
        headers = {k.lower(): v for k, v in request.headers.items()}
        refuse_repeated_headers(request)
        caller = None
        if spec.roles == SHOPPER:
            caller = authenticate_shopper(headers.get("authorization"))
        elif spec.roles is not None:
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
        if spec.raw_body:
            body: Any = NoBody()
        else:
            body = NoBody()
            if spec.body is not NoBody:
                check_media_type(headers, raw)
                body = parse_body(raw, spec.body)
        query: Any = parse_query(single_query_params(request), spec.query)
        call: Call[Any, Any] = Call(caller, path, body, query, headers, raw)
        key = headers.get("idempotency-key")
        if spec.idempotent and key is not None:
            response = _idempotent(spec, call, fn, key)
        else:
            response = _reply(spec, fn(call))
    except ApiError as exc:
        response = _error_response(exc, request_id)
    except Exception:
        logger.exception("unhandled error")
        response = _error_response(InternalError("An internal error occurred."), request_id)
    finally:
        invocation.end()
        if response is not None:
            status = response.status_code
        PATIENCE.reset(patience)
        logger.info(
            "request",
            extra={"status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
        )
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


def _error_response(error: ApiError, request_id: str | None) -> Response:
    if error.status >= 500:
        logger.error("request failed", extra={"error": error.code, "detail": error.message})
        if request_id and error.status == 500:
            # The id the logs carry, so a report of the failure finds its log lines.
            error.message = f"{error.message} Request id: {request_id}."
    return render_error(error)


def _reply(spec: EndpointSpec, result: Any) -> Response:
    reply = result if isinstance(result, Reply) else Reply(result, spec.status)
    return render(reply)


def _idempotent(
    spec: EndpointSpec, call: Call[Any, Any], fn: Callable[[Call[Any, Any]], Any], key: str
) -> Response:
    """Run a POST at most once per (API key, Idempotency-Key): a retry of the same request replays."""
    path = concrete_path(spec.path, call.path)

    first: list[Response] = []

    def run() -> idempotency.Outcome:
        try:
            response = _reply(spec, fn(call))
        except ApiError as exc:
            response = _error_response(exc, invocation.request_id())
        first.append(response)
        body = response.body if isinstance(response.body, str) else json.dumps(response.body)
        content_type = str(response.headers.get("Content-Type", JSON))
        return idempotency.Outcome(response.status_code, body, content_type)

    scope = call.caller.key_id if call.caller else "public"
    outcome, replayed = idempotency.run_once(
        scope, key, idempotency.fingerprint(spec.method, path, call.raw_body), run
    )
    if not replayed:
        return first[0]
    headers: dict[str, str | list[str]] = {
        "Content-Type": outcome.content_type,
        "Idempotent-Replayed": "true",
    }
    return Response(body=outcome.body, status_code=outcome.status, headers=headers)
