"""Client ids and secrets.

A client secret is 256 random bits, so it cannot be guessed or brute-forced whatever the hash;
a slow password hash (argon2) would add nothing but CPU cost on every token request, which is
also a denial-of-service lever. It is stored as HMAC-SHA256 keyed with a server-side pepper that
is not in the database, so a leaked table alone cannot even confirm a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CLIENT_ID_PREFIX = "vc_"
CLIENT_SECRET_PREFIX = "vcs_"  # noqa: S105 - a prefix


def new_client_id() -> str:
    """A public client identifier: ``vc_`` and 128 random bits."""
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(16)


def new_client_secret() -> str:
    """A client secret: ``vcs_`` and 256 random bits; shown to the operator once."""
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str, pepper: bytes) -> str:
    """The stored form of ``secret``: hex HMAC-SHA256 under ``pepper``."""
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str | None, pepper: bytes) -> bool:
    """Constant-time comparison of ``secret`` with a stored hash."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)
