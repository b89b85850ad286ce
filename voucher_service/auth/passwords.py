"""Password hashing (argon2id) and password rules.

Hashing runs in a thread: argon2 is deliberately slow and must not stall the event loop. Users
that do not exist are checked against a dummy hash, so timing does not reveal accounts.
"""

from __future__ import annotations

import asyncio
import string
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from voucher_service.auth.errors import WeakPassword
from voucher_service.settings import Settings

MAX_LENGTH = 128  # argon2 takes any length; a bound stops megabyte "passwords"
_COMMON = frozenset(
    {
        "password",
        "passw0rd",
        "password1",
        "password123",
        "p@ssw0rd",
        "qwerty123",
        "qwertyuiop",
        "1qaz2wsx",
        "1q2w3e4r",
        "admin123",
        "abc123456",
        "a123456789",
        "123456789a",
        "iloveyou",
        "woaini1314",
        "letmein",
        "welcome1",
        "changeme",
    }
)


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher(settings: Settings) -> PasswordHasher:
    """The argon2id hasher with the configured parameters."""
    return _hasher(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("not a real password")


async def hash_password(settings: Settings, password: str) -> str:
    """The argon2id hash of ``password``."""
    return await asyncio.to_thread(hasher(settings).hash, password)


async def verify_password(settings: Settings, stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; costs the same when there is no stored hash."""
    ph = hasher(settings)
    target = stored or _dummy_hash(ph.time_cost, ph.memory_cost, ph.parallelism)

    def check() -> bool:
        try:
            return ph.verify(target, password[:MAX_LENGTH])
        except (VerificationError, InvalidHashError):
            return False

    matched = await asyncio.to_thread(check)
    return matched and stored is not None


def needs_rehash(settings: Settings, stored: str) -> bool:
    """Whether ``stored`` was made with older parameters (rehashed at the next login)."""
    try:
        return hasher(settings).check_needs_rehash(stored)
    except InvalidHashError:
        return True


def password_problems(password: str, *, min_length: int, email: str) -> list[str]:
    """Every rule ``password`` breaks, in plain words (empty when it is acceptable)."""
    problems = []
    if len(password) < min_length:
        problems.append(f"at least {min_length} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    classes = sum(
        any(char in group for char in password)
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not char.isalnum() for char in password)
    if classes < 3:
        problems.append("three of: lower case, upper case, digits, symbols")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        problems.append("must not contain the e-mail name")
    if password.lower() in _COMMON or len(set(password)) < 4:
        problems.append("must not be a common or repetitive password")
    return problems


def check_password(settings: Settings, password: str, *, email: str) -> None:
    """Raise WeakPassword naming every rule ``password`` breaks."""
    problems = password_problems(password, min_length=settings.password_min_length, email=email)
    if problems:
        raise WeakPassword(
            "The password needs: " + "; ".join(problems) + ".",
            detail_zh=f"密码至少 {settings.password_min_length} 位，包含大写字母、小写字母、"
            "数字、符号中的三类，且不得包含邮箱名或使用常见密码。",
            rules=problems,
        )
