"""Structured JSON logging: one JSON object per line, with the request's context keys appended.

`bind(customer_ref=..., stripe_event_id=...)` adds keys to every later line of the same request;
`clear()` starts a new request. Secrets, API keys and card data are never passed to the logger.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

from chalicelib.settings import settings

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("log_context", default=None)

# Attributes every LogRecord has; anything else passed through `extra=` becomes a JSON key.
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_context.get() or {})
        line.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def bind(**keys: Any) -> None:
    """Append keys to every log line of the current request."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in keys.items() if v is not None})
    _context.set(current)


def clear(**keys: Any) -> None:
    """Start a new request's context."""
    _context.set({k: v for k, v in keys.items() if v is not None})


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"vip.{name}")


def configure() -> None:
    root = logging.getLogger("vip")
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    root.propagate = False
