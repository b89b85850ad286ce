"""The audit trail is append-only and hash-chained; verification catches edits and deletions."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.sqltypes import utcnow
from voucher_service.audit import chain
from voucher_service.audit import service as audit
from voucher_service.audit.service import AuditActor, redact
from voucher_service.db import Database
from voucher_service.worker.registry import JobContext
from voucher_service.worker.runner import Worker

DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER audit_event_no_update",
        "DROP TRIGGER audit_event_no_delete",
    ],
    "postgresql": ["DROP TRIGGER audit_event_append_only ON audit_event"],
}


async def write(database: Database, count: int, action: str = "test.event") -> None:
    async with database.unit_of_work() as session:
        for index in range(count):
            await audit.record(
                session,
                action=action,
                actor=AuditActor.system("test"),
                target=("thing", index),
                after={"index": index},
            )


async def link_all(database: Database) -> None:
    async with database.unit_of_work() as session:
        await chain.link_pending(session)


async def verify(database: Database) -> chain.ChainReport:
    async with database.unit_of_work(readonly=True) as session:
        return await chain.verify_chain(session)


async def raw(database: Database, *statements: str) -> None:
    async with database.unit_of_work() as session:
        for statement in statements:
            await session.execute(text(statement))


async def test_linked_chain_verifies(database: Database) -> None:
    await write(database, 5)
    await link_all(database)
    await write(database, 2)  # written after the link: checked by content hash only
    report = await verify(database)
    assert report.ok, report
    assert (report.linked_checked, report.unlinked_checked, report.head_seq) == (5, 2, 5)


async def test_linking_continues_the_chain_across_runs(database: Database) -> None:
    await write(database, 3)
    await link_all(database)
    await write(database, 3)
    await link_all(database)
    report = await verify(database)
    assert report.ok and report.linked_checked == 6


@pytest.mark.parametrize("linked", [True, False])
async def test_raw_sql_edit_is_detected(database: Database, linked: bool) -> None:
    await write(database, 4)
    if linked:
        await link_all(database)
    await raw(database, *DROP_TRIGGERS[database.dialect])
    await raw(
        database,
        "UPDATE audit_event SET after_json = '{\"index\": 99}' WHERE target_id = '2'",
    )
    report = await verify(database)
    assert not report.ok
    assert report.problem is not None and "altered" in report.problem


async def test_recomputed_hashes_still_break_the_chain(database: Database) -> None:
    # An attacker who also recomputes the content hash breaks the chain hash instead.
    await write(database, 3)
    await link_all(database)
    await raw(database, *DROP_TRIGGERS[database.dialect])
    await raw(database, "UPDATE audit_event SET content_hash = 'f' WHERE target_id = '1'")
    report = await verify(database)
    assert not report.ok


async def test_deleted_event_is_detected(database: Database) -> None:
    await write(database, 4)
    await link_all(database)
    await raw(database, *DROP_TRIGGERS[database.dialect])
    await raw(database, "DELETE FROM audit_event WHERE target_id = '1'")
    report = await verify(database)
    assert not report.ok and report.problem and "missing" in report.problem


async def test_truncated_tail_is_detected(database: Database) -> None:
    await write(database, 4)
    await link_all(database)
    await raw(database, *DROP_TRIGGERS[database.dialect])
    await raw(database, "DELETE FROM audit_event WHERE target_id = '3'")
    report = await verify(database)
    assert not report.ok and report.problem and "recorded head" in report.problem


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET reason = 'edited'",
        "DELETE FROM audit_event",
    ],
)
async def test_database_refuses_updates_and_deletes(database: Database, statement: str) -> None:
    await write(database, 2)
    await link_all(database)
    with pytest.raises(DBAPIError, match="append-only"):
        await raw(database, statement)


async def test_database_refuses_editing_an_unlinked_event(database: Database) -> None:
    await write(database, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        await raw(database, "UPDATE audit_event SET action = 'other'")


async def test_pruning_keeps_the_chain_verifiable(database: Database) -> None:
    await write(database, 3, action="old")
    await link_all(database)
    boundary = utcnow()
    await write(database, 2, action="young")
    await link_all(database)
    async with database.unit_of_work() as work:
        assert await chain.prune(work, before=boundary) == 3
    report = await verify(database)
    assert report.ok, report
    assert report.linked_checked == 2
    # Nothing young is pruned, and pruning again is a no-op.
    async with database.unit_of_work() as work:
        assert await chain.prune(work, before=boundary) == 0


async def test_retention_job_never_prunes_recent_events(database: Database, app: FastAPI) -> None:
    await write(database, 2)
    worker = Worker(JobContext(database, app.state.settings, app.state.keyring, "test"))
    assert await worker.run_once("audit.chain")
    assert await worker.run_once("audit.retention")
    report = await verify(database)
    assert report.ok and report.linked_checked == 2


def test_redaction_removes_secrets_at_any_depth() -> None:
    cleaned = redact(
        {
            "email": "a@b.cn",
            "password": "hunter2",
            "nested": {"client_secret": "vcs_x", "list": [{"refresh_token": "vrt_y"}]},
            "Authorization": "Bearer z",
        }
    )
    assert cleaned == {
        "email": "a@b.cn",
        "password": "[redacted]",
        "nested": {"client_secret": "[redacted]", "list": [{"refresh_token": "[redacted]"}]},
        "Authorization": "[redacted]",
    }


async def test_record_separately_outside_a_request_writes_at_once(database: Database) -> None:
    await audit.record_separately(database, action="cli.thing", actor=AuditActor.system("cli"))
    report = await verify(database)
    assert report.unlinked_checked == 1
