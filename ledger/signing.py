"""What the ledger needs from a key: sign bytes as a compact JWS, and verify one.

The application's key ring (``voucher_service.keys.service.KeyRing``: ES256 with a ``kid``,
keys published at ``/.well-known/jwks.json``) satisfies both protocols; the ledger never sees a
private key.
"""

from __future__ import annotations

from typing import Any, Protocol


class Verifier(Protocol):
    def verify(self, token: str) -> bytes:
        """The payload of ``token`` if one of our keys signed it; raise otherwise."""
        ...


class Signer(Verifier, Protocol):
    def sign(self, payload: dict[str, Any] | bytes) -> str:
        """A compact JWS over ``payload``."""
        ...
