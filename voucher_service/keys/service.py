"""The key ring: EC P-256 keys that sign tokens, receipts and ledger checkpoints.

Keys are PEM files in the key directory, named ``<UTC timestamp>_<kid>.pem``; the newest signs, all
of them stay published in the JWKS so that anything signed before a rotation still verifies. The
``kid`` is the key's RFC 7638 thumbprint. Several API replicas sharing the directory pick a rotation
up within a second. A configured key file replaces the directory (one key, no rotation).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jws
from jose.backends.base import Key
from jose.exceptions import JOSEError

from voucher_service.keys.secret import write_new_file
from voucher_service.kit.problems import ProblemError

ALGORITHM = "ES256"


class SigningKeyUnavailable(ProblemError):
    status = 500
    code = "signing_key_unavailable"
    title = "Signing key unavailable"
    title_zh = "签名密钥不可用"


class SignatureInvalid(Exception):
    """A JWS did not verify against any published key."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    """One key of the ring; the PEM and JWK are parsed once, here, not for every signature."""

    kid: str
    private_pem: str
    public_jwk: dict[str, str]
    #: The parsed private key (parsing the PEM costs more than an ES256 signature).
    private_key: Key = field(init=False, repr=False, compare=False)
    #: The parsed public key, for verifying tokens and receipts.
    public_key: Key = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "private_key", jwk.construct(self.private_pem, ALGORITHM))
        object.__setattr__(self, "public_key", jwk.construct(self.public_jwk, ALGORITHM))

    @classmethod
    def from_private_key(cls, key: ec.EllipticCurvePrivateKey) -> SigningKey:
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("signing keys must be EC P-256")
        numbers = key.public_key().public_numbers()
        x, y = (_b64url(n.to_bytes(32, "big")) for n in (numbers.x, numbers.y))
        thumbprint_input = json.dumps(
            {"crv": "P-256", "kty": "EC", "x": x, "y": y}, separators=(",", ":"), sort_keys=True
        )
        kid = _b64url(hashlib.sha256(thumbprint_input.encode()).digest())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        jwk = {"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": ALGORITHM}
        return cls(kid=kid, private_pem=pem, public_jwk=jwk | {"use": "sig"})

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("signing keys must be EC P-256 private keys")
        return cls.from_private_key(key)


def generate_key_file(directory: Path) -> SigningKey:
    """Create a new key in ``directory``, readable by its owner only."""
    key = SigningKey.from_private_key(ec.generate_private_key(ec.SECP256R1()))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    write_new_file(directory / f"{stamp}_{key.kid}.pem", key.private_pem.encode())
    return key


class KeyRing:
    """Loads, rotates and publishes the service keys; signs and verifies compact JWS."""

    RELOAD_INTERVAL = 1.0

    def __init__(self, directory: Path, key_file: Path | None = None) -> None:
        self.directory = directory
        self.key_file = key_file
        self._keys: list[SigningKey] = []
        self._stamp: tuple[float, int] | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Make sure a signing key exists (generating one on first start) and load the ring."""
        if self.key_file is None and not any(self.directory.glob("*.pem")):
            generate_key_file(self.directory)
        self._load()

    def rotate(self) -> SigningKey:
        """Generate a new active key; earlier keys stay published."""
        if self.key_file is not None:
            raise ValueError("a configured signing key file cannot be rotated; replace the file")
        key = generate_key_file(self.directory)
        self._load()
        return key

    @property
    def keys(self) -> list[SigningKey]:
        """All published keys, newest (active) first."""
        self._reload_if_changed()
        if not self._keys:
            raise SigningKeyUnavailable(
                "No signing key is loaded; run `voucher-service serve` once."
            )
        return self._keys

    @property
    def active(self) -> SigningKey:
        return self.keys[0]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self.keys]}

    def sign(
        self, payload: dict[str, Any] | bytes, *, headers: dict[str, Any] | None = None
    ) -> str:
        """A compact JWS over ``payload`` with the active key and its ``kid``."""
        key = self.active
        token: str = jws.sign(
            payload,
            key.private_key,
            headers={"kid": key.kid, **(headers or {})},
            algorithm=ALGORITHM,
        )
        return token

    def verify(self, token: str) -> bytes:
        """The payload of a compact JWS signed by one of our keys, or SignatureInvalid."""
        try:
            kid = jws.get_unverified_header(token).get("kid")
        except JOSEError as exc:
            raise SignatureInvalid(str(exc)) from exc
        key = next((k for k in self.keys if k.kid == kid), None)
        if key is None:
            raise SignatureInvalid(f"unknown kid {kid!r}")
        try:
            return jws.verify(token, key.public_key, algorithms=[ALGORITHM])  # type: ignore[no-any-return]
        except JOSEError as exc:
            raise SignatureInvalid(str(exc)) from exc

    def _files(self) -> list[Path]:
        if self.key_file is not None:
            return [self.key_file]
        return sorted(self.directory.glob("*.pem"), reverse=True)

    def _load(self) -> None:
        with self._lock:
            files = self._files()
            self._keys = [SigningKey.from_pem(path.read_bytes()) for path in files]
            self._stamp = self._directory_stamp()
            self._checked_at = time.monotonic()

    def _directory_stamp(self) -> tuple[float, int]:
        target = self.key_file or self.directory
        stat = target.stat()
        return (stat.st_mtime, stat.st_size if self.key_file else len(self._files()))

    def _reload_if_changed(self) -> None:
        if time.monotonic() - self._checked_at < self.RELOAD_INTERVAL:
            return
        self._checked_at = time.monotonic()
        try:
            changed = self._directory_stamp() != self._stamp
        except FileNotFoundError:
            return
        if changed:
            self._load()
