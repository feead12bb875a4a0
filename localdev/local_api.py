"""`chalice local` that passes repeated headers on as API Gateway does.

Chalice's local server builds the Lambda event from `dict(headers)`, so of two `Authorization` headers the
first silently wins and the app never learns there were two. API Gateway (REST, proxy integration) puts
every value in the event's `multiValueHeaders`, where `routing.refuse_repeated_headers` looks. This runs
`chalice local` (same options, reloader included) with a request handler that fills `multiValueHeaders`
from the raw request, so the local stack answers a repeated header exactly as the deployed one.

    python -m localdev.local_api --host 127.0.0.1 --port 8000 --stage local [--no-autoreload]
"""

from __future__ import annotations

import sys
from typing import Any

from chalice import local
from chalice.app import Chalice
from chalice.cli import cli
from chalice.config import Config


class MultiValueHeadersHandler(local.ChaliceRequestHandler):
    """Adds `multiValueHeaders` (every value of every header, as sent) to the event of each request."""

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        headers, body = super()._parse_payload()
        multi: dict[str, list[str]] = {}
        for name, value in self.headers.items():  # every header line, repeats included
            multi.setdefault(name, []).append(value)
        converter = self.local_gateway.event_converter  # one per handler, so per connection
        create = type(converter).create_lambda_event

        def create_lambda_event(*args: Any, **kwargs: Any) -> dict[str, Any]:
            event = create(converter, *args, **kwargs)
            event["multiValueHeaders"] = multi
            return event

        converter.create_lambda_event = create_lambda_event  # type: ignore[method-assign]
        return headers, body


def create_local_server(app_obj: Chalice, config: Config, host: str, port: int) -> local.LocalDevServer:
    """chalice.local.create_local_server with the handler above."""
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app_obj.__class__)
    app_obj.__class__ = local.CustomLocalChalice
    return local.LocalDevServer(app_obj, config, host, port, handler_cls=MultiValueHeadersHandler)


def main(args: list[str]) -> int:
    # The CLI's factory looks the server up on the module at call time.
    local.create_local_server = create_local_server
    # The reloader restarts its worker with `sys.argv`: make that this module again.
    sys.argv = [sys.executable, "-m", "localdev.local_api", *args]
    try:
        cli.main(args=["local", *args], obj={}, prog_name="chalice", standalone_mode=False)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
