"""Signing secrets encrypted at rest.

A webhook secret cannot be hashed like a password: we need it back to sign every delivery. So it is
stored as a Fernet token (AES-128-CBC + HMAC-SHA256) under a key that is *not* in the database
(the application derives it from its server secret, kept beside the signing keys on the volume
API replicas and workers share, or takes configured keys). A database dump, backup or replica on
its own then reveals no secret that could forge callbacks to providers. Several keys may be given,
newest first: new secrets are encrypted with the first, and any of them decrypts (``MultiFernet``),
so the key can be rotated without re-encrypting at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBox:
    """Encrypts and decrypts endpoint secrets."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    @classmethod
    def from_text(cls, text: str) -> SecretBox:
        """Keys separated by commas or lines, newest first."""
        keys = [k.strip().encode() for k in text.replace(",", "\n").splitlines() if k.strip()]
        return cls(keys)

    def encrypt(self, secret: bytes) -> str:
        return self._fernet.encrypt(secret).decode()

    def decrypt(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode())
        except InvalidToken as exc:
            raise ValueError(
                "a webhook secret cannot be decrypted with the configured keys"
            ) from exc
