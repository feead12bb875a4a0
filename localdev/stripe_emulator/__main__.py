"""`python -m localdev.stripe_emulator [--port 12111] [--webhook-url URL] [--webhook-secret whsec_local]`."""

from __future__ import annotations

import argparse
import logging

from localdev.stripe_emulator import Emulator


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Stripe emulator (test mode, in memory)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default="http://127.0.0.1:8000/v1/webhooks/stripe")
    parser.add_argument("--webhook-secret", default="whsec_local")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="[stripe] %(message)s")
    emulator = Emulator(args.host, args.port, args.webhook_url or None, args.webhook_secret)
    print(f"[stripe] emulator on {emulator.base_url}, webhooks → {args.webhook_url or 'nowhere'}", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.server.server_close()


if __name__ == "__main__":
    main()
