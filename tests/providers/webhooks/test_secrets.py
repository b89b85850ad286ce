from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from providers.webhooks.secrets import SecretBox


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
