"""The CLI fails with one clear line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from voucher_service import migrations
from voucher_service.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("VOUCHER_DATABASE_URL", "VOUCHER_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VOUCHER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_bad_setting_is_one_line_and_exit_2(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCHER_ENVIRONMENT", "staging")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "VOUCHER_ENVIRONMENT" in result.output
    assert "Traceback" not in result.output


def test_bad_database_scheme_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCHER_DATABASE_URL", "mysql://x@y/z")
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "database_url must start with" in result.output


def test_unreachable_database_is_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "VOUCHER_DATABASE_URL", "postgresql+asyncpg://nobody:secretpw@127.0.0.1:1/none"
    )
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "secretpw" not in result.output
    assert "Traceback" not in result.output


def test_database_behind_the_code_is_refused(env: Path) -> None:
    # The worker never migrates: an empty database is "at migration none".
    result = runner.invoke(app, ["worker"])
    assert result.exit_code == 1
    assert "is at migration none" in result.output
    assert "voucher-service migrate" in result.output


def test_migrate_then_keys(env: Path) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    db = env / "data" / "voucher.db"
    assert db.exists()
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and "(signing)" in listed.output
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "2 key(s) published" in rotated.output
    assert migrations.head_revision() is not None


def test_create_admin_then_log_in_and_verify_audit(env: Path) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    created = runner.invoke(
        app,
        ["create-admin", "--email", "Root@Gov.cn", "--password-stdin"],
        input="Strong-Admin-Pass-1\n",
    )
    assert created.exit_code == 0, created.output
    assert "created sysadmin root@gov.cn" in created.output
    finance = runner.invoke(
        app,
        ["create-admin", "--email", "cfo@gov.cn", "--role", "finance", "--password-stdin"],
        input="Strong-Admin-Pass-2\n",
    )
    assert finance.exit_code == 0, finance.output
    again = runner.invoke(
        app, ["create-admin", "--email", "root@gov.cn", "--password-stdin"], input="Other-Pass-33\n"
    )
    assert again.exit_code == 1 and "email_taken" in again.output
    assert "Traceback" not in again.output
    weak = runner.invoke(
        app, ["create-admin", "--email", "w@gov.cn", "--password-stdin"], input="weak\n"
    )
    assert weak.exit_code == 1 and "weak_password" in weak.output
    bad_role = runner.invoke(app, ["create-admin", "--email", "x@gov.cn", "--role", "owner"])
    assert bad_role.exit_code == 2
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact" in verified.output


def test_serve_with_workers_gives_them_time_to_import(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn kills a worker that does not answer its ping in time (5 s by default): on a busy
    machine a worker still importing would be killed and restarted for ever."""
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **kwargs: seen.update(kwargs))
    result = runner.invoke(app, ["serve", "--workers", "2", "--no-worker"])
    assert result.exit_code == 0, result.output
    assert seen["workers"] == 2
    assert seen["timeout_worker_healthcheck"] >= 30  # type: ignore[operator]
