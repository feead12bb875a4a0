"""Listen to outbound events: a local webhook receiver that prints each verified event as it arrives.

    python -m ops.events listen --port 9000 --secret whsec_...

Register it first (local stage: loopback http is allowed), e.g.
`curl -X POST localhost:8000/v1/webhook_endpoints -H "Authorization: Bearer local-brand-key"
-H "Content-Type: application/json" -d '{"url": "http://127.0.0.1:9000/", "events": ["*"]}'`, then pass the
`secret` it answers. Each request is verified with the Standard Webhooks reference library (signature and
timestamp); a good one is answered 204 and printed, anything else 400 with the reason on stderr.
Several `--secret` are accepted (during a rotation either may verify).
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1_000_000


def verified(secrets: list[str], body: bytes, headers: dict[str, str]) -> Any:
    """The event when one of `secrets` verifies it; `WebhookVerificationError` otherwise."""
    failure: WebhookVerificationError | None = None
    for secret in secrets:
        try:
            return Webhook(secret).verify(body, headers)
        except WebhookVerificationError as exc:
            failure = exc
    raise failure or WebhookVerificationError("no secret given")


def make_server(host: str, port: int, secrets: list[str], out: TextIO = sys.stdout) -> ThreadingHTTPServer:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            body = self.rfile.read(length)
            try:
                event = verified(secrets, body, dict(self.headers.items()))
            except WebhookVerificationError as exc:
                print(f"refused: {exc}", file=sys.stderr, flush=True)
                self._answer(400)
                return
            print(json.dumps(event, indent=2), file=out, flush=True)
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Receiver)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listen = commands.add_parser("listen", help="receive, verify and print events")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=9000)
    listen.add_argument("--secret", action="append", required=True, help="the endpoint's whsec_ secret")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.secret)
    print(f"listening on http://{args.host}:{server.server_address[1]}/ (Ctrl-C stops)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
