"""providers.clients without HTTP: JWK validation, secrets, assertions, scopes."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwt

from providers.clients.assertion import verify_client_assertion
from providers.clients.errors import ClientAuthenticationFailed, InvalidJwk, InvalidScope
from providers.clients.jwk import parse_public_jwk
from providers.clients.scopes import narrow, parse_scopes
from providers.clients.secrets import hash_secret, new_client_secret, secret_matches


def b64(n: int, length: int | None = None) -> str:
    raw = n.to_bytes(length or (n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def rsa_pair(bits: int = 2048) -> tuple[str, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    numbers = key.public_key().public_numbers()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, {"kty": "RSA", "n": b64(numbers.n), "e": b64(numbers.e)}


def ec_public() -> dict[str, Any]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x, 32), "y": b64(numbers.y, 32)}


def test_valid_keys_pin_their_algorithm_and_get_a_thumbprint() -> None:
    ec_key = parse_public_jwk(ec_public())
    assert ec_key.alg == "ES256" and ec_key.jwk["kid"] == ec_key.thumbprint
    rsa_key = parse_public_jwk(rsa_pair()[1] | {"kid": "mine", "use": "sig"})
    assert rsa_key.alg == "RS256" and rsa_key.jwk["kid"] == "mine"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda k: k | {"d": "AAAA"},
        lambda k: k | {"crv": "P-384"},
        lambda k: k | {"x": b64(1, 32)},
        lambda k: k | {"use": "enc"},
        lambda k: k | {"alg": "HS256"},
        lambda _key: {"kty": "oct", "k": "c2VjcmV0"},
        lambda k: k | {"x": "!!!"},
    ],
)
def test_unusable_keys_are_refused(mutate: Any) -> None:
    with pytest.raises(InvalidJwk):
        parse_public_jwk(mutate(ec_public()))


def test_short_rsa_keys_are_refused() -> None:
    with pytest.raises(InvalidJwk, match="2048"):
        parse_public_jwk(rsa_pair(1024)[1])


def test_secrets_are_keyed_and_compared_safely() -> None:
    secret = new_client_secret()
    stored = hash_secret(secret, b"pepper-one")
    assert secret_matches(secret, stored, b"pepper-one")
    assert not secret_matches(secret, stored, b"pepper-two")
    assert not secret_matches(secret + "x", stored, b"pepper-one")
    assert not secret_matches(secret, None, b"pepper-one")
    assert secret not in stored


def test_rs256_assertion_verifies() -> None:
    pem, public = rsa_pair()
    key = parse_public_jwk(public)
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "vc_a",
            "sub": "vc_a",
            "aud": "https://x/v1/oauth/token",
            "exp": now + 60,
            "jti": "j1",
        },
        pem,
        algorithm="RS256",
    )
    claims = verify_client_assertion(
        token,
        client_id="vc_a",
        keys=[key],
        audiences=["https://x/v1/oauth/token"],
        now=datetime.now(UTC),
        max_lifetime_seconds=300,
    )
    assert claims.jti == "j1"
    with pytest.raises(ClientAuthenticationFailed) as caught:
        verify_client_assertion(
            token,
            client_id="vc_b",
            keys=[key],
            audiences=["https://x/v1/oauth/token"],
            now=datetime.now(UTC),
            max_lifetime_seconds=300,
        )
    assert caught.value.reason == "assertion_invalid"


def test_scopes_are_validated_and_narrowed() -> None:
    granted = parse_scopes(["vouchers:read", "redemptions:write"], default=[])
    assert narrow(None, granted) == granted
    assert narrow("vouchers:read", granted) == {"vouchers:read"}
    with pytest.raises(InvalidScope):
        narrow("settlements:read", granted)
    with pytest.raises(InvalidScope):
        parse_scopes("admin:all", default=[])
