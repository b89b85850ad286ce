from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from providers.webhooks.secrets import SecretBox


def test_key_file_is_created_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "webhook-secrets.key"
    box = SecretBox.from_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = box.encrypt(b"secret")
    assert b"secret" not in token.encode()
    # A second process (or a restart) reads the same key instead of making another.
    assert SecretBox.from_file(path).decrypt(token) == b"secret"
    assert list(path.parent.iterdir()) == [path]


def test_rotated_keys_still_decrypt_old_tokens() -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    old_token = SecretBox([old_key]).encrypt(b"before")
    box = SecretBox.from_text(f"{new_key.decode()},{old_key.decode()}")
    assert box.decrypt(old_token) == b"before"
    new_token = box.encrypt(b"after")
    assert SecretBox([new_key]).decrypt(new_token) == b"after"


def test_wrong_key_is_a_clear_error_and_keys_are_not_shown() -> None:
    token = SecretBox([Fernet.generate_key()]).encrypt(b"x")
    other = SecretBox([Fernet.generate_key()])
    with pytest.raises(ValueError, match="cannot be decrypted"):
        other.decrypt(token)
    assert "hidden" in repr(other)
    with pytest.raises(ValueError, match="at least one"):
        SecretBox([])
