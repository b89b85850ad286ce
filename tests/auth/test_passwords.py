"""Password hashing parameters and rules."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_user, login
from voucher_service.auth import passwords
from voucher_service.settings import Settings


def test_production_defaults_meet_owasp() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    hasher = passwords.hasher(settings)
    assert hasher.memory_cost >= 19_456 and hasher.time_cost >= 2
    assert hasher.type.name == "ID"


def test_production_refuses_weak_hashing() -> None:
    with pytest.raises(ValidationError, match="OWASP"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, environment="production", password_hash_memory_kib=1024
        )


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt!", "at least"),
        ("onlylowercaseletters", "three of"),
        ("Founder-2024-x", "e-mail name"),
        ("Password123", "common"),
        ("x" * 129 + "A1", "at most"),
    ],
)
def test_rules_name_what_is_wrong(password: str, rule: str) -> None:
    problems = passwords.password_problems(password, min_length=10, email="founder@example.cn")
    assert any(rule in problem for problem in problems), problems


def test_a_good_password_passes() -> None:
    assert passwords.password_problems("Correct-Horse-42", min_length=10, email="a@b.cn") == []


async def test_old_hashes_are_upgraded_at_login(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    old_hash = user.password_hash
    app.state.settings.password_hash_memory_kib = 2048
    await login(client, user.email)
    await session.refresh(user)
    assert user.password_hash != old_hash and "m=2048" in (user.password_hash or "")
    await session.commit()


def test_money_roles_can_never_include_sysadmin_or_auditor() -> None:
    from voucher_service.auth.dependencies import RequireRoles
    from voucher_service.users.models import Role

    for role in (Role.sysadmin, Role.auditor):
        with pytest.raises(ValueError, match="separation of duties"):
            RequireRoles(Role.finance, role, approves_money=True)
    assert RequireRoles(Role.finance, Role.program_admin, approves_money=True).roles
