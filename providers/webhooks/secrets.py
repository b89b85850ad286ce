"""Signing secrets encrypted at rest.

A webhook secret cannot be hashed like a password: we need it back to sign every delivery. So it is
stored as a Fernet token (AES-128-CBC + HMAC-SHA256) under a key that is *not* in the database: a
file in the key directory (beside the service's signing keys, on the volume the API replicas and
workers share) or a configured value. A database dump, backup or replica on its own then reveals
no secret that could forge callbacks to providers. Several keys may be given, newest first: new
secrets are encrypted with the first, and any of them decrypts (``MultiFernet``), so the key can be
rotated without re-encrypting at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_FILE_NAME = "webhook-secrets.key"


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

    @classmethod
    def from_file(cls, path: Path) -> SecretBox:
        """Keys from ``path``, generating a first key (owner-readable only) if it is missing."""
        if not path.exists():
            _create_key_file(path)
        return cls.from_text(path.read_text())

    def encrypt(self, secret: bytes) -> str:
        return self._fernet.encrypt(secret).decode()

    def decrypt(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode())
        except InvalidToken as exc:
            raise ValueError(
                "a webhook secret cannot be decrypted with the configured keys"
            ) from exc


def _create_key_file(path: Path) -> None:
    # Written aside then hard-linked into place: the file appears complete or not at all, and
    # when several processes start together exactly one key wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key() + b"\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process created it first; use theirs
    finally:
        temporary.unlink()
