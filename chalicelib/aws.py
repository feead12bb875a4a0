"""One botocore session per container, and each AWS client built once per (service, endpoint, limits).

Building a botocore session and a client costs about as much as importing the app (service models are
loaded and parsed), so every pynamodb model and the Secrets Manager client share them. Nothing here runs
at import: the session is built on the first call that needs AWS.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from chalicelib.budget import CallLimits
from chalicelib.settings import settings

_lock = threading.Lock()  # botocore's client creation is not thread-safe
_clients: dict[tuple[str, str, str | None, CallLimits], Any] = {}


@cache
def botocore_session() -> Any:
    from botocore.session import get_session

    return get_session()


def client(service: str, limits: CallLimits, endpoint_url: str | None = None) -> Any:
    """The container's client of `service` that waits on AWS as `limits` say."""
    key = (service, settings.aws_region, endpoint_url, limits)
    found = _clients.get(key)
    if found is None or _lost_credentials(found):
        with _lock:
            found = _clients.get(key)
            if found is None or _lost_credentials(found):
                found = _build(service, limits, endpoint_url)
                _clients[key] = found
    return found


def built_clients() -> list[Any]:
    """Every client built so far (tests count calls through their event hooks)."""
    return list(_clients.values())


def _build(service: str, limits: CallLimits, endpoint_url: str | None) -> Any:
    from botocore.config import Config

    config = Config(
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        retries={"mode": "standard", "total_max_attempts": limits.attempts},
        # The service builds its requests itself (pynamodb); validating them again costs time per call.
        parameter_validation=False,
    )
    return botocore_session().create_client(
        service, region_name=settings.aws_region, endpoint_url=endpoint_url, config=config
    )


def _lost_credentials(found: Any) -> bool:
    """botocore can cache empty credentials after a metadata-service hiccup; such a client is rebuilt."""
    signer = getattr(found, "_request_signer", None)
    return signer is not None and not signer._credentials
