"""Signing an inbound callback: a compact JWS over the exact body with the payload left out
(RFC 7515 appendix F), ``typ`` ``callback+jws``, sent in the ``JWS-Signature`` header."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jose import jws

if TYPE_CHECKING:
    from providers.sdk.auth import PrivateKeyJwt

SIGNATURE_TYPE = "callback+jws"


def sign_callback(body: bytes, credentials: PrivateKeyJwt) -> str:
    """The ``JWS-Signature`` value for ``body``, signed with the client's private key."""
    headers: dict[str, str] = {"typ": SIGNATURE_TYPE}
    if credentials.key_id:
        headers["kid"] = credentials.key_id
    token: str = jws.sign(
        body, credentials.private_key, headers=headers, algorithm=credentials.algorithm
    )
    protected, _, signature = token.split(".")
    return f"{protected}..{signature}"
