from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from voucher_service.settings import Settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_defaults_are_the_embedded_sqlite_database() -> None:
    settings = make(data_dir=Path("var"))
    assert settings.resolved_database_url == "sqlite+aiosqlite:///var/voucher.db"
    assert settings.is_sqlite and not settings.is_production
    assert settings.key_dir == Path("var/keys")
    assert settings.json_logs is False


def test_environment_variables_use_the_voucher_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCHER_ENVIRONMENT", "production")
    monkeypatch.setenv("VOUCHER_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.is_production and not settings.is_sqlite
    assert settings.json_logs is True


@pytest.mark.parametrize(
    "values",
    [
        {"environment": "staging"},
        {"database_url": "mysql://u@h/db"},
        {"log_level": "LOUD"},
        {"max_body_bytes": 10},
    ],
)
def test_bad_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make(**values)
