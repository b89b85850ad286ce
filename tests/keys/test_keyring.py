from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jws

from voucher_service.keys.service import KeyRing, SignatureInvalid


def test_first_start_generates_a_private_key_readable_by_owner_only(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    ring.ensure()
    files = list((tmp_path / "keys").glob("*.pem"))
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert ring.active.kid in files[0].name


def test_sign_and_verify_round_trip_with_kid_header(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    ring.ensure()
    token = ring.sign({"hello": "世界"})
    assert jws.get_unverified_header(token)["kid"] == ring.active.kid
    assert json.loads(ring.verify(token)) == {"hello": "世界"}
    # Independent check: verify against the published public JWK alone.
    jwk = ring.jwks()["keys"][0]
    assert "d" not in jwk
    assert json.loads(jws.verify(token, jwk, algorithms=["ES256"])) == {"hello": "世界"}


def test_rotation_keeps_previous_keys_published(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    ring.ensure()
    old_token = ring.sign({"n": 1})
    old_kid = ring.active.kid
    new = ring.rotate()
    assert ring.active.kid == new.kid != old_kid
    assert [k["kid"] for k in ring.jwks()["keys"]] == [new.kid, old_kid]
    assert json.loads(ring.verify(old_token)) == {"n": 1}


def test_another_process_rotation_is_picked_up(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    ring.ensure()
    other = KeyRing(tmp_path)
    other.ensure()
    new = other.rotate()
    ring.RELOAD_INTERVAL = 0
    assert ring.active.kid == new.kid


def test_configured_key_file_is_used_and_cannot_rotate(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "service.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ring = KeyRing(tmp_path / "unused", key_file=path)
    ring.ensure()
    assert not (tmp_path / "unused").exists()
    assert len(ring.keys) == 1
    with pytest.raises(ValueError, match="cannot be rotated"):
        ring.rotate()


def test_wrong_curve_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "p384.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="P-256"):
        KeyRing(tmp_path, key_file=path).ensure()


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.", "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vIn0.e30.x"],
)
def test_garbage_and_unknown_kid_do_not_verify(tmp_path: Path, token: str) -> None:
    ring = KeyRing(tmp_path)
    ring.ensure()
    with pytest.raises(SignatureInvalid):
        ring.verify(token)


def test_tampered_payload_does_not_verify(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    ring.ensure()
    header, _, signature = ring.sign({"amount": 100}).split(".")
    forged = jws.sign({"amount": 1}, "x" * 32, algorithm="HS256").split(".")[1]
    with pytest.raises(SignatureInvalid):
        ring.verify(f"{header}.{forged}.{signature}")


async def test_jwks_endpoint_publishes_public_keys(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert {key["kty"], key["crv"], key["alg"]} == {"EC", "P-256", "ES256"}
    assert key["kid"] and "d" not in key
