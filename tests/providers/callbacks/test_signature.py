"""Detached JWS verification: the registered key over the exact bytes, and nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from jose import jws

from providers.callbacks.errors import (
    CallbackSignatureInvalid,
    CallbackSignatureMissing,
    CallbackSigningKeyRequired,
)
from providers.callbacks.signature import b64url, verify_detached
from providers.clients.jwk import PublicJwk, parse_public_jwk
from tests.callbacks.signing import sign
from tests.clients.test_client_credentials import ec_key
from tests.providers.clients.test_keys_and_assertions import rsa_pair

BODY = b'{"id":"a-1","type":"callback.test","timestamp":"2026-11-29T08:00:00Z","data":{}}'


def registered(public_jwk: dict[str, str], kid: str | None = None) -> PublicJwk:
    return parse_public_jwk(public_jwk | ({"kid": kid} if kid else {}))


def test_the_registered_key_verifies_the_exact_body() -> None:
    pem, public = ec_key()
    key = registered(public, kid="k1")
    verified = verify_detached(sign(BODY, pem), BODY, [key])
    assert verified.key == key and verified.key_id == "k1"
    assert verify_detached(sign(BODY, pem, kid="k1"), BODY, [key]).key_id == "k1"
    with pytest.raises(CallbackSignatureInvalid, match="does not verify"):
        verify_detached(sign(BODY, pem), BODY.replace(b"a-1", b"a-2"), [key])


def test_rsa_keys_sign_with_rs256_and_only_that() -> None:
    pem, public = rsa_pair()
    key = registered(public)
    assert verify_detached(sign(BODY, pem, algorithm="RS256"), BODY, [key]).key == key
    with pytest.raises(CallbackSignatureInvalid, match="alg and kid"):
        verify_detached(sign(BODY, pem, algorithm="RS512"), BODY, [key])


def test_any_current_key_verifies_and_kid_picks_one() -> None:
    old_pem, old_public = ec_key()
    new_pem, new_public = ec_key()
    keys = [registered(new_public, kid="new"), registered(old_public, kid="old")]
    assert verify_detached(sign(BODY, old_pem), BODY, keys).key_id == "old"  # grace period
    assert verify_detached(sign(BODY, new_pem), BODY, keys).key_id == "new"
    with pytest.raises(CallbackSignatureInvalid, match="does not verify"):
        verify_detached(sign(BODY, old_pem, kid="new"), BODY, keys)
    with pytest.raises(CallbackSignatureInvalid, match="alg and kid"):
        verify_detached(sign(BODY, new_pem, kid="elsewhere"), BODY, keys)
    stranger, _ = ec_key()
    with pytest.raises(CallbackSignatureInvalid, match="does not verify"):
        verify_detached(sign(BODY, stranger), BODY, keys)


def _forged(header: dict[str, str], signature: bytes) -> str:
    protected = b64url(json.dumps(header).encode())
    return f"{protected}..{b64url(signature)}"


def test_algorithm_confusion_and_none_never_verify() -> None:
    _, public = ec_key()
    key = registered(public)
    # HS256 keyed with the public key (the classic confusion attack), and "none".
    secret = json.dumps(key.jwk).encode()
    protected = b64url(json.dumps({"alg": "HS256", "typ": "callback+jws"}).encode())
    mac = hmac.new(secret, f"{protected}.{b64url(BODY)}".encode(), hashlib.sha256).digest()
    for forged in (
        _forged({"alg": "HS256", "typ": "callback+jws"}, mac),
        _forged({"alg": "none", "typ": "callback+jws"}, b""),
    ):
        with pytest.raises(CallbackSignatureInvalid, match="alg and kid"):
            verify_detached(forged, BODY, [key])


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"typ": "JWT"}, "typ"),
        ({"crit": ["exp"]}, "Unsupported header parameters: crit"),
        ({"b64": False}, "Unsupported header parameters: b64"),
        ({"jku": "https://attacker.example/jwks"}, "Unsupported header parameters: jku"),
    ],
)
def test_header_parameters_we_do_not_honour_are_refused(
    header: dict[str, object], reason: str
) -> None:
    pem, public = ec_key()
    with pytest.raises(CallbackSignatureInvalid, match=reason):
        verify_detached(sign(BODY, pem, **header), BODY, [registered(public)])


@pytest.mark.parametrize(
    "signature",
    [
        "not a jws",
        "a.b.c",  # an attached payload is not what we asked for
        "!!!..abc",
        base64.urlsafe_b64encode(b"[1]").decode().rstrip("=") + "..abc",
        "x" * 5000,
    ],
)
def test_malformed_signatures_are_invalid(signature: str) -> None:
    _, public = ec_key()
    with pytest.raises(CallbackSignatureInvalid):
        verify_detached(signature, BODY, [registered(public)])


def test_missing_signature_and_missing_key() -> None:
    pem, public = ec_key()
    with pytest.raises(CallbackSignatureMissing):
        verify_detached(None, BODY, [registered(public)])
    with pytest.raises(CallbackSigningKeyRequired):
        verify_detached(sign(BODY, pem), BODY, [])


def test_a_client_assertion_made_with_the_same_key_is_not_a_callback_signature() -> None:
    pem, public = ec_key()
    token = jws.sign(BODY, pem, algorithm="ES256")  # default typ "JWT"
    protected, _, signature = token.split(".")
    with pytest.raises(CallbackSignatureInvalid, match="typ"):
        verify_detached(f"{protected}..{signature}", BODY, [registered(public)])
