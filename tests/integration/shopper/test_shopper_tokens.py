"""Shopper tokens: minted by the brand's server, good for one shopper on `/v1/shopper/*` only, refused
whenever anything about them is off — and never written to the logs."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from chalicelib.log import JsonFormatter
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club
from tests.integration.shopper.conftest import CURRENT_KEY, PREVIOUS_KEY, as_shopper, mint

AUDIENCE = "vip-rewards-shopper"


def forged(claims: dict[str, Any] | None = None, key: tuple[str, str] = CURRENT_KEY, **header: Any) -> str:
    now = int(time.time())
    payload = {"aud": AUDIENCE, "sub": "ada", "iat": now, "exp": now + 300, **(claims or {})}
    return jwt.encode(payload, key[1], algorithm="HS256", headers={"kid": key[0], **header})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def membership(client: Any, token: str) -> Any:
    return client.http.get("/v1/shopper/membership", headers=as_shopper(token))


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)["error"]
    return body


def test_a_minted_token_is_an_hs256_jwt_for_that_shopper_with_kid_aud_and_a_short_expiry(
    client: Any, keys: dict[str, str]
) -> None:
    response = client.http.post(
        "/v1/members/ada/session", body=json.dumps({"ttl_seconds": 900}), headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 201
    answer = json.loads(response.body)
    header = jwt.get_unverified_header(answer["token"])
    assert header["alg"] == "HS256" and header["kid"] == CURRENT_KEY[0]
    claims = jwt.decode(answer["token"], CURRENT_KEY[1], algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == "ada"
    assert claims["exp"] - claims["iat"] == 900
    assert answer["expires_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))


def test_a_token_lasts_ten_minutes_by_default_and_never_more_than_fifteen(
    client: Any, keys: dict[str, str]
) -> None:
    claims = jwt.decode(mint(client, "ada"), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 600
    for ttl in (901, 59):
        response = client.http.post(
            "/v1/members/ada/session", body=json.dumps({"ttl_seconds": ttl}), headers=auth(STOREFRONT_KEY)
        )
        assert response.status_code == 400 and error_of(response)["param"] == "ttl_seconds"


def test_a_shopper_never_seen_before_reads_status_none(client: Any, keys: dict[str, str]) -> None:
    response = membership(client, mint(client, "first-visit"))
    assert response.status_code == 200
    answer = json.loads(response.body)
    assert (answer["customer_ref"], answer["status"], answer["perks_active"]) == (
        "first-visit",
        "none",
        False,
    )


def test_a_token_signed_with_the_previous_key_still_verifies_during_the_rotation_overlap(
    client: Any, keys: dict[str, str]
) -> None:
    assert membership(client, forged(key=PREVIOUS_KEY)).status_code == 200


@pytest.mark.parametrize(
    "why",
    [
        "tampered",
        "expired",
        "wrong_aud",
        "unknown_kid",
        "alg_none",
        "no_kid",
        "hs512",
        "no_exp",
        "bad_sub",
        "garbage",
    ],
)
def test_a_token_that_is_off_in_any_way_is_refused_with_401(
    client: Any, keys: dict[str, str], why: str
) -> None:
    good = forged()
    now = int(time.time())
    token = {
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        # Beyond the 30 s leeway.
        "expired": forged({"iat": now - 900, "exp": now - 31}),
        "wrong_aud": forged({"aud": "someone-else"}),
        "unknown_kid": forged(key=("retired-0", CURRENT_KEY[1])),
        "alg_none": f"{_b64({'alg': 'none', 'kid': CURRENT_KEY[0], 'typ': 'JWT'})}."
        f"{_b64({'aud': AUDIENCE, 'sub': 'ada', 'iat': now, 'exp': now + 300})}.",
        "no_kid": jwt.encode({"aud": AUDIENCE, "sub": "ada", "iat": now, "exp": now + 300}, CURRENT_KEY[1]),
        "hs512": jwt.encode(
            {"aud": AUDIENCE, "sub": "ada", "iat": now, "exp": now + 300}, CURRENT_KEY[1] * 2,
            algorithm="HS512", headers={"kid": CURRENT_KEY[0]},
        ),
        "no_exp": jwt.encode(
            {"aud": AUDIENCE, "sub": "ada", "iat": now}, CURRENT_KEY[1], headers={"kid": CURRENT_KEY[0]}
        ),
        "bad_sub": forged({"sub": "ada/../../bob"}),
        "garbage": "not-a-jwt",
    }[why]  # fmt: skip
    response = membership(client, token)
    assert response.status_code == 401
    assert error_of(response)["type"] == "authentication"
    assert error_of(response)["code"] == "invalid_shopper_token"


def test_a_token_within_the_leeway_still_works(client: Any, keys: dict[str, str]) -> None:
    now = int(time.time())
    assert membership(client, forged({"iat": now - 600, "exp": now - 5})).status_code == 200


@pytest.mark.parametrize("key", [STOREFRONT_KEY, BRAND_KEY])
def test_an_api_key_on_the_shopper_api_is_refused_with_401(
    client: Any, keys: dict[str, str], key: str
) -> None:
    assert membership(client, key).status_code == 401
    response = client.http.put(
        "/v1/shopper/cause", body=json.dumps({"cause_id": "general-fund"}), headers=as_shopper(key)
    )
    assert response.status_code == 401


def test_the_shopper_api_without_a_token_is_401(client: Any) -> None:
    response = client.http.get("/v1/shopper/membership")
    assert response.status_code == 401 and error_of(response)["code"] == "missing_shopper_token"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/members/ada"), ("POST", "/v1/members/ada/session"), ("GET", "/v1/reports/memberships"),
     ("POST", "/v1/eligibility"), ("POST", "/v1/api-keys")],
)  # fmt: skip
def test_a_shopper_token_on_any_other_route_is_401(
    client: Any, keys: dict[str, str], method: str, path: str
) -> None:
    token = mint(client, "ada")
    response = client.http.request(method, path, body=b"{}", headers=as_shopper(token))
    assert response.status_code == 401


def test_the_token_speaks_for_its_subject_only(club: Club) -> None:
    club.join("ada")
    answer = json.loads(membership(club.client, mint(club.client, "bob")).body)
    assert answer["customer_ref"] == "bob" and answer["status"] == "none"


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every line the service logs (at DEBUG), as JSON text."""
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))

    logger = logging.getLogger("vip")
    handler, level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_tokens_never_appear_in_the_logs(client: Any, keys: dict[str, str], log_lines: list[str]) -> None:
    token = mint(client, "ada")
    expired = forged({"iat": int(time.time()) - 900, "exp": int(time.time()) - 60})
    membership(client, token)
    membership(client, expired)
    client.http.get("/v1/members/ada", headers=as_shopper(token))
    client.http.post(
        "/v1/shopper/portal",
        body=json.dumps({"return_url": "https://evil.example/"}),
        headers=as_shopper(token),
    )
    assert len(log_lines) >= 5
    for secret in (token, expired, *(t.split(".")[2] for t in (token, expired))):
        assert not [line for line in log_lines if secret in line]


def test_importing_the_app_does_not_import_the_jwt_library() -> None:
    """Cold start: PyJWT is imported by the first request that mints or checks a token."""
    import subprocess
    import sys

    code = "import sys, app; print('jwt' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert found.stdout.strip() == "False"
