"""Verifying a callback's signature: a JWS with a detached payload (RFC 7515 appendix F).

The provider signs the exact bytes of the request body with the private key of one of its
``private_key_jwt`` API clients and sends ``<protected header>..<signature>`` (the compact JWS
with its middle part left out) in the ``JWS-Signature`` header. We put the base64url of the body
back in the middle and verify against the public key(s) registered for the calling client.

- The algorithm is pinned by the registered key (ES256 for EC P-256, RS256 for RSA), never taken
  from the header alone; ``none`` and HMAC can never verify.
- ``typ`` must be ``callback+jws``, so a signature made for something else with the same key (a
  client assertion, say) is never taken for a callback (RFC 8725, explicit typing).
- ``crit`` and ``b64`` are refused: we understand no extension, and the payload is always
  base64url-encoded in the signing input.
- ``kid`` is optional; when present it must name a registered key. During a key rotation's grace
  period the previous key verifies too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jose import jws
from jose.exceptions import JOSEError

from providers.callbacks.errors import (
    CallbackSignatureInvalid,
    CallbackSignatureMissing,
    CallbackSigningKeyRequired,
)
from providers.clients.jwk import PublicJwk

SIGNATURE_TYPE = "callback+jws"
MAX_SIGNATURE_LENGTH = 4000
_UNSUPPORTED = frozenset({"crit", "b64", "jku", "x5u", "jwk"})


@dataclass(frozen=True)
class VerifiedSignature:
    """The key that verified the signature, and the signature as sent."""

    key: PublicJwk
    signature: str

    @property
    def key_id(self) -> str:
        return self.key.jwk["kid"]


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _protected_header(encoded: str) -> dict[str, Any]:
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise CallbackSignatureInvalid("The protected header is not base64url JSON.") from exc
    if not isinstance(header, dict):
        raise CallbackSignatureInvalid("The protected header must be a JSON object.")
    return header


def _candidates(header: dict[str, Any], keys: Sequence[PublicJwk]) -> list[PublicJwk]:
    if header.get("typ") != SIGNATURE_TYPE:
        raise CallbackSignatureInvalid(f'The protected header needs "typ": "{SIGNATURE_TYPE}".')
    unsupported = sorted(_UNSUPPORTED & header.keys())
    if unsupported:
        raise CallbackSignatureInvalid(f"Unsupported header parameters: {', '.join(unsupported)}.")
    candidates = [key for key in keys if key.alg == header.get("alg")]
    if "kid" in header:
        candidates = [key for key in candidates if key.jwk["kid"] == header["kid"]]
    if not candidates:
        raise CallbackSignatureInvalid("No registered key of this client matches alg and kid.")
    return candidates


def verify_detached(
    signature: str | None, body: bytes, keys: Sequence[PublicJwk]
) -> VerifiedSignature:
    """The registered key that signed ``body``, or a CallbackError saying what is wrong."""
    if not keys:
        raise CallbackSigningKeyRequired(
            "Send callbacks with a private_key_jwt API client: its registered key signs them."
        )
    if not signature:
        raise CallbackSignatureMissing("Sign the body and send the JWS in JWS-Signature.")
    parts = signature.strip().split(".")
    if len(signature) > MAX_SIGNATURE_LENGTH or len(parts) != 3 or parts[1]:
        raise CallbackSignatureInvalid("Expected a detached compact JWS: <header>..<signature>.")
    protected, _, encoded_signature = parts
    compact = f"{protected}.{b64url(body)}.{encoded_signature}"
    for key in _candidates(_protected_header(protected), keys):
        try:
            jws.verify(compact, key.jwk, algorithms=[key.alg])
        except JOSEError:
            continue
        return VerifiedSignature(key=key, signature=signature.strip())
    raise CallbackSignatureInvalid("The signature does not verify over this body.")
