"""Issuing a voucher: one unit of work that moves the award from the programme's budget."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from providers.webhooks.models import WebhookEvent
from tests.factories import audit_events, create_organisation
from tests.programs.factories import FACTORY, create_program, create_provider, create_voucher
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.programs import service as programs
from voucher_service.programs.errors import ProgramStateConflict
from voucher_service.programs.models import ProgramStatus
from voucher_service.vouchers import codes
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.errors import (
    BudgetExhausted,
    InvalidIssueAmount,
    VoucherAlreadyIssued,
)
from voucher_service.vouchers.models import Voucher, VoucherProvider


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_issue_moves_the_award_binds_the_provider_audits_and_emits(
    session: AsyncSession, database: Database
) -> None:
    provider = await create_provider(session)
    holder = await create_organisation(session, kind=OrganisationKind.enterprise)
    program = await create_program(session, providers=[provider], budget=500_000_00)
    application_id = uuid.uuid4()

    voucher = await vouchers.issue_voucher(
        session,
        program=program,
        holder_id=holder.id,
        provider_id=provider.id,
        amount=120_000_00,
        application_id=application_id,
        actor=FACTORY,
        rate_bp=6000,
    )
    await session.commit()

    assert codes.normalise(voucher.code) == voucher.code
    assert (voucher.kind, voucher.mode, voucher.rate_bp) == ("compute", "point_of_sale", 6000)
    assert (voucher.valid_until - voucher.valid_from).days == 365
    assert await vouchers.balance_of(session, voucher) == vouchers.Balance(120_000_00, 0)
    assert await programs.remaining_budget(session, program) == 380_000_00
    issued = await ledger.transaction_by_client_id(session, f"voucher:{application_id}:issue")
    assert issued is not None and issued.committed
    assert await vouchers.bound_provider_ids(session, voucher.id) == [provider.id]
    assert [e.target_id for e in await audit_events(database, "voucher.issued")] == [
        str(voucher.id)
    ]
    event = (await session.execute(select(WebhookEvent))).scalar_one()
    assert (event.provider_id, event.event_type) == (provider.id, "voucher.bound")
    data = json.loads(event.payload)["data"]
    assert data["voucher_code"] == voucher.code and data["balance_amount"] == 120_000_00


async def test_budget_exhausted_leaves_nothing_written(session: AsyncSession) -> None:
    provider = await create_provider(session)
    holder = await create_organisation(session, kind=OrganisationKind.enterprise)
    program = await create_program(session, providers=[provider], budget=1_000_00)

    with pytest.raises(BudgetExhausted) as refused:
        await vouchers.issue_voucher(
            session,
            program=program,
            holder_id=holder.id,
            provider_id=provider.id,
            amount=1_000_01,
            application_id=uuid.uuid4(),
            actor=FACTORY,
        )
    assert refused.value.extensions == {"requested_amount": 1_000_01, "available_amount": 1_000_00}
    # The unit of work is still usable and holds nothing of the refused issuance.
    await session.commit()
    assert await count(session, Voucher) == 0
    assert await count(session, VoucherProvider) == 0
    assert await count(session, WebhookEvent) == 0
    voucher_accounts = await session.scalar(
        select(func.count())
        .select_from(ledger.models.account)
        .where(ledger.models.account.c.code.like("voucher:%"))
    )
    assert voucher_accounts == 0
    assert await programs.remaining_budget(session, program) == 1_000_00
    # The same amount that fits is issued afterwards.
    voucher = await vouchers.issue_voucher(
        session,
        program=program,
        holder_id=holder.id,
        provider_id=provider.id,
        amount=1_000_00,
        application_id=None,
        actor=FACTORY,
    )
    await session.commit()
    assert await programs.remaining_budget(session, program) == 0
    assert voucher.rate_bp == program.default_rate_bp


async def test_second_issue_for_one_application_is_refused(session: AsyncSession) -> None:
    application_id = uuid.uuid4()
    voucher = await create_voucher(session, amount=10_00, application_id=application_id)
    program = await programs.get_program(session, voucher.program_id)
    with pytest.raises(VoucherAlreadyIssued):
        await vouchers.issue_voucher(
            session,
            program=program,
            holder_id=voucher.holder_id,
            provider_id=(await vouchers.bound_provider_ids(session, voucher.id))[0],
            amount=10_00,
            application_id=application_id,
            actor=FACTORY,
        )


@pytest.mark.parametrize("amount", [0, -1, True])
async def test_amount_must_be_positive_fen(session: AsyncSession, amount: int) -> None:
    provider = await create_provider(session)
    program = await create_program(session, providers=[provider], budget=100)
    with pytest.raises(InvalidIssueAmount):
        await vouchers.issue_voucher(
            session,
            program=program,
            holder_id=provider.id,
            provider_id=provider.id,
            amount=amount,
            application_id=None,
            actor=FACTORY,
        )


@pytest.mark.postgres_only
async def test_twenty_racing_issues_for_a_budget_of_five_issue_exactly_five(
    session: AsyncSession, database: Database
) -> None:
    provider = await create_provider(session)
    program = await create_program(session, providers=[provider], budget=5 * 1_000_00)
    holders = [
        await create_organisation(session, kind=OrganisationKind.enterprise) for _ in range(20)
    ]

    async def issue(holder_id: uuid.UUID) -> str:
        try:
            async with database.unit_of_work() as uow:
                fresh = await programs.get_program(uow, program.id)
                await vouchers.issue_voucher(
                    uow,
                    program=fresh,
                    holder_id=holder_id,
                    provider_id=provider.id,
                    amount=1_000_00,
                    application_id=uuid.uuid4(),
                    actor=FACTORY,
                )
        except BudgetExhausted:
            return "refused"
        return "issued"

    results = await asyncio.gather(*(issue(holder.id) for holder in holders))
    assert sorted(results).count("issued") == 5
    assert results.count("refused") == 15
    async with database.unit_of_work(readonly=True) as check:
        assert await count(check, Voucher) == 5
        assert await programs.remaining_budget(check, program) == 0
        figures = await programs.figures(check, program)
        assert (figures.committed, figures.outstanding, figures.available) == (5_000_00,) * 2 + (0,)
        assert (await ledger.trial_balance(check)).balanced


@pytest.mark.parametrize("status", [ProgramStatus.draft, ProgramStatus.archived])
async def test_draft_or_archived_programme_issues_nothing(
    session: AsyncSession, status: ProgramStatus
) -> None:
    provider = await create_provider(session)
    program = await create_program(session, providers=[provider], status=status)
    with pytest.raises(ProgramStateConflict):
        await vouchers.issue_voucher(
            session,
            program=program,
            holder_id=provider.id,
            provider_id=provider.id,
            amount=100,
            application_id=None,
            actor=FACTORY,
        )


async def test_validity_to_a_fixed_date_ends_that_day_in_china(session: AsyncSession) -> None:
    from datetime import UTC, date, datetime, timedelta

    last_day = date.today() + timedelta(days=10)
    voucher = await create_voucher(session, validity_days=None, valid_until_on=last_day)
    expected = datetime.combine(last_day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=16)
    assert voucher.valid_until == expected  # 24:00 in Asia/Shanghai is 16:00 UTC
    shorter = await create_voucher(session, validity_days=3, valid_until_on=last_day)
    assert shorter.valid_until - shorter.valid_from == timedelta(days=3)
    provider = await create_provider(session)
    ended = await create_program(
        session,
        providers=[provider],
        budget=100,
        validity_days=None,
        opens_on=date.today() - timedelta(days=30),
        valid_until_on=date.today() - timedelta(days=2),
    )
    with pytest.raises(ProgramStateConflict):
        await vouchers.issue_voucher(
            session,
            program=ended,
            holder_id=provider.id,
            provider_id=provider.id,
            amount=100,
            application_id=None,
            actor=FACTORY,
        )
