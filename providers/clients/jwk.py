"""Public keys that providers register for ``private_key_jwt`` client authentication.

Accepted: EC P-256 (ES256) and RSA of at least 2048 bits (RS256). A key offering private
members is refused outright: a provider that sends us its private key has leaked it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from providers.clients.errors import InvalidJwk

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class PublicJwk:
    """A validated public JWK with the one algorithm it may be used with."""

    jwk: dict[str, str]
    alg: str
    thumbprint: str

    def to_json(self) -> str:
        return json.dumps(self.jwk, sort_keys=True, separators=(",", ":"))


def _b64_int(value: Any, member: str) -> int:
    if not isinstance(value, str) or not value:
        raise InvalidJwk(f"The key member {member!r} must be a base64url string.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise InvalidJwk(f"The key member {member!r} is not valid base64url.") from exc
    return int.from_bytes(raw, "big")


def _thumbprint(members: Mapping[str, str]) -> str:
    canonical = json.dumps(dict(members), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _check_ec(data: Mapping[str, Any]) -> dict[str, str]:
    if data.get("crv") != "P-256":
        raise InvalidJwk("Only the P-256 curve is accepted for EC keys.")
    x, y = _b64_int(data.get("x"), "x"), _b64_int(data.get("y"), "y")
    try:
        ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError as exc:
        raise InvalidJwk("The EC point is not on the P-256 curve.") from exc
    return {"kty": "EC", "crv": "P-256", "x": str(data["x"]), "y": str(data["y"])}


def _check_rsa(data: Mapping[str, Any]) -> dict[str, str]:
    n, e = _b64_int(data.get("n"), "n"), _b64_int(data.get("e"), "e")
    if n.bit_length() < _MIN_RSA_BITS:
        raise InvalidJwk(f"RSA keys must have at least {_MIN_RSA_BITS} bits.")
    try:
        rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise InvalidJwk("The RSA public key is malformed.") from exc
    return {"kty": "RSA", "n": str(data["n"]), "e": str(data["e"])}


def parse_public_jwk(data: Mapping[str, Any]) -> PublicJwk:
    """Validate a public JWK (RFC 7517) and pin the algorithm it will be verified with."""
    if not isinstance(data, Mapping):
        raise InvalidJwk("The key must be a JSON object (a JWK).")
    if _PRIVATE_MEMBERS & data.keys():
        raise InvalidJwk("This is a private key: register the public key only, and replace it.")
    if data.get("use") not in (None, "sig"):
        raise InvalidJwk("The key's 'use' must be 'sig'.")
    kty = data.get("kty")
    if kty == "EC":
        members, alg = _check_ec(data), "ES256"
    elif kty == "RSA":
        members, alg = _check_rsa(data), "RS256"
    else:
        raise InvalidJwk("Only EC (P-256) and RSA keys are accepted.")
    if data.get("alg") not in (None, alg):
        raise InvalidJwk(f"A {kty} key is used with {alg} here, not {data.get('alg')}.")
    thumbprint = _thumbprint(members)
    kid = data.get("kid")
    jwk = {**members, "alg": alg, "kid": kid if isinstance(kid, str) and kid else thumbprint}
    return PublicJwk(jwk=jwk, alg=alg, thumbprint=thumbprint)


def load_stored_jwk(stored: str) -> PublicJwk:
    """A key as stored by :meth:`PublicJwk.to_json`."""
    return parse_public_jwk(json.loads(stored))
