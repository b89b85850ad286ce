"""The operator's backup really restores: pg_dump a database with money, audit events and
ledger checkpoints in it, pg_restore it into a new database, and verify the copy from scratch
(docs/RELIABILITY.md, "Backup and restore")."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from tests import databases
from tests.redemptions.factories import create_seller, redeem, voucher_for
from tests.reliability.processes import run_cli, service_environment
from voucher_service.db import Database, create_engine
from voucher_service.redemptions.models import Redemption
from voucher_service.worker.registry import JobContext
from voucher_service.worker.runner import Worker

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def pg(command: str, url: str, *arguments: str) -> None:
    """Run a PostgreSQL client tool against the database of ``url``."""
    parsed = make_url(url)
    connection = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
    connection += ["-U", parsed.username or "postgres"]
    subprocess.run([command, *connection, *arguments], check=True, timeout=120)  # noqa: S603


async def test_a_dump_restores_into_a_new_database_that_verifies(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    database_url: str,
    tmp_path: Path,
    worker_tag: str,
) -> None:
    seller = await create_seller(app, client, session)
    voucher = await voucher_for(session, seller)
    for _ in range(3):
        assert (await redeem(client, seller, voucher)).status_code == 201
    context = JobContext(database, app.state.settings, app.state.keyring, "backup-test")
    worker = Worker(context)
    for job in ("ledger.seal_checkpoints", "audit.chain"):
        assert await worker.run_once(job)

    dump = tmp_path / "voucher.dump"
    source = make_url(database_url).database or ""
    pg("pg_dump", database_url, "--format=custom", f"--file={dump}", source)
    copy = f"vs_restore_{worker_tag}_{uuid.uuid4().hex[:12]}"
    pg("createdb", database_url, copy)
    try:
        restore = ["--exit-on-error", "--no-owner", f"--dbname={copy}", f"{dump}"]
        pg("pg_restore", database_url, *restore)
        restored_url = databases.postgres_url(copy)
        env = service_environment(restored_url, app.state.settings.data_dir)
        for command in (("ledger", "verify"), ("audit", "verify")):
            result = run_cli(env, *command)
            assert result.returncode == 0, result.stdout + result.stderr
        settings = app.state.settings.model_copy(update={"database_url": restored_url})
        restored = Database(create_engine(settings))
        try:
            async with restored.unit_of_work(readonly=True) as copied:
                assert await copied.scalar(select(func.count()).select_from(Redemption)) == 3
        finally:
            await restored.dispose()
    finally:
        databases.drop_postgres(copy)
