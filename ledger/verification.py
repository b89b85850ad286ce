"""``verify``: recompute the whole ledger from its legs and check every seal and signature.

Checks, in the order their breaks are reported:

1. every transaction, in id order: its content hash recomputed from its rows equals the stored
   one; a committed transaction has ``leg_count`` legs numbered from 0 on accounts of its
   currency, balanced (debits = credits) in every phase; a refused one has none;
2. the checkpoint chain, in sequence: contiguous numbers, each ``prev`` the hash of the one
   before, the signature valid for the stored payload, the Merkle root and count equal to those
   of the transactions sealed under it;
3. every account: stored totals (plus unfolded hot-account deltas) equal the sums of its legs,
   and its limit holds; every delta belongs to an account;
4. every hold: open in ``ledger_pending_hold`` exactly when it has no resolution, resolved at
   most once, and its open row agrees with its legs.

Each check reads in one statement per batch, and immutable rows make batches consistent, so a
busy database can be verified while it runs.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.hashing import merkle_root, sha256_hex
from ledger.models import (
    RESOLUTION_KINDS,
    account,
    balance_delta,
    checkpoint,
    entry,
    pending_hold,
    transaction,
)
from ledger.posting.journal import compute_hash, load_transactions
from ledger.queries import CURRENT_TOTALS
from ledger.sealing import GENESIS, Checkpoint
from ledger.signing import Verifier
from ledger.types import Balance, Transaction

BATCH = 2000
MAX_BREAKS = 50


@dataclass(frozen=True, slots=True)
class Break:
    """One place where the ledger is not what it should be."""

    check: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.detail}"


@dataclass(slots=True)
class VerifyReport:
    transactions: int = 0
    checkpoints: int = 0
    accounts: int = 0
    holds: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is broken."""
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        """The first problem found, in the order of the checks."""
        return self.breaks[0] if self.breaks else None

    def add(self, check: str, subject: str, detail: str) -> None:
        """Record a break (the first ``MAX_BREAKS`` are kept)."""
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(Break(check, subject, detail))


async def verify(session: AsyncSession, verifier: Verifier) -> VerifyReport:
    """Check everything; the report's ``first_break`` names the first problem found."""
    report = VerifyReport()
    currencies = dict((await session.execute(sa.select(account.c.id, account.c.currency))).all())
    async for record in _transactions(session):
        report.transactions += 1
        _check_transaction(report, record, currencies)
    # Every stored hash now matches its row (or is reported), so the seals are checked
    # against the stored hashes, one checkpoint at a time.
    await _check_checkpoints(session, verifier, report)
    await _check_accounts(session, report)
    await _check_holds(session, report)
    return report


async def _transactions(session: AsyncSession) -> AsyncIterator[Transaction]:
    connection = await session.connection()
    after: uuid.UUID | None = None
    while True:
        page = sa.select(transaction.c.id).order_by(transaction.c.id).limit(BATCH)
        if after is not None:
            page = page.where(transaction.c.id > after)
        ids = list((await connection.execute(page)).scalars())
        if not ids:
            return
        for record in await load_transactions(connection, transaction.c.id.in_(ids)):
            yield record
        after = ids[-1]


def _check_transaction(
    report: VerifyReport, record: Transaction, currencies: dict[uuid.UUID, str]
) -> None:
    subject = f"transaction {record.id} ({record.client_id})"
    if compute_hash(record) != record.content_hash:
        report.add("content_hash", subject, "stored hash differs from its recomputed content")
    if not record.committed:
        if record.legs or record.leg_count:
            report.add("refused_with_legs", subject, f"{len(record.legs)} legs on a refusal")
        return
    if [leg.position for leg in record.legs] != list(range(record.leg_count)):
        report.add(
            "legs",
            subject,
            f"{len(record.legs)} legs, numbered otherwise than 0..{record.leg_count - 1}",
        )
    totals: Counter[tuple[str, str]] = Counter()
    for leg in record.legs:
        totals[(leg.phase, leg.side)] += leg.amount
        if currencies.get(leg.account_id) != record.currency:
            report.add("currency", subject, f"leg {leg.position} on an account of another currency")
    for phase in ("posted", "pending", "release"):
        if totals[(phase, "debit")] != totals[(phase, "credit")]:
            report.add(
                "balanced",
                subject,
                f"{phase} debits {totals[(phase, 'debit')]} != credits {totals[(phase, 'credit')]}",
            )


async def _check_checkpoints(
    session: AsyncSession, verifier: Verifier, report: VerifyReport
) -> None:
    prev_hash, expected_seq = GENESIS, 1
    rows = (await session.execute(sa.select(checkpoint).order_by(checkpoint.c.seq))).all()
    for row in rows:
        stored = Checkpoint(**row._mapping)
        report.checkpoints += 1
        sealed = sa.select(transaction.c.content_hash).where(
            transaction.c.checkpoint_seq == stored.seq
        )
        hashes = list((await session.execute(sealed.order_by(transaction.c.id))).scalars())
        for problem in _checkpoint_problems(stored, verifier, prev_hash, expected_seq, hashes):
            report.add("checkpoint", f"checkpoint {stored.seq}", problem)
        prev_hash, expected_seq = stored.checkpoint_hash, stored.seq + 1
    missing = (
        sa.select(transaction.c.checkpoint_seq)
        .where(
            transaction.c.checkpoint_seq.is_not(None),
            ~sa.exists().where(checkpoint.c.seq == transaction.c.checkpoint_seq),
        )
        .distinct()
        .order_by(transaction.c.checkpoint_seq)
    )
    for seq in (await session.execute(missing)).scalars():
        report.add("checkpoint", f"checkpoint {seq}", "transactions sealed under a missing seal")


def _checkpoint_problems(
    stored: Checkpoint, verifier: Verifier, prev_hash: str, expected_seq: int, hashes: list[str]
) -> Iterable[str]:
    if stored.seq != expected_seq:
        yield f"sequence gap: expected {expected_seq}"
    if stored.prev_hash != prev_hash:
        yield "does not chain to the previous checkpoint"
    if sha256_hex(stored.payload) != stored.checkpoint_hash:
        yield "stored hash differs from its payload"
    try:
        signed = verifier.verify(stored.signature)
    except Exception as exc:  # any verifier failure means the signature is not ours
        yield f"signature does not verify: {exc}"
    else:
        if signed != stored.payload:
            yield "signature covers another payload"
    if len(hashes) != stored.transaction_count:
        yield f"seals {stored.transaction_count} transactions, {len(hashes)} found"
    if merkle_root([bytes.fromhex(h) for h in hashes]).hex() != stored.merkle_root:
        yield "Merkle root differs from its transactions"


def _leg_totals() -> sa.Subquery:
    def total(side: str, phase: str) -> sa.ColumnElement[int]:
        matches = sa.and_(entry.c.side == side, entry.c.phase == phase)
        return sa.func.coalesce(sa.func.sum(sa.case((matches, entry.c.amount), else_=0)), 0)

    return (
        sa.select(
            entry.c.account_id,
            total("debit", "posted").label("dp"),
            total("credit", "posted").label("cp"),
            (total("debit", "pending") - total("debit", "release")).label("dpe"),
            (total("credit", "pending") - total("credit", "release")).label("cpe"),
        )
        .group_by(entry.c.account_id)
        .subquery()
    )


async def _check_accounts(session: AsyncSession, report: VerifyReport) -> None:
    legs = _leg_totals()
    sums = [
        sa.func.coalesce(column, 0) for column in (legs.c.dp, legs.c.cp, legs.c.dpe, legs.c.cpe)
    ]
    query = (
        sa.select(
            account.c.code,
            account.c.debits_must_not_exceed_credits,
            account.c.credits_must_not_exceed_debits,
            *CURRENT_TOTALS,
            *sums,
        )
        .select_from(account.outerjoin(legs, legs.c.account_id == account.c.id))
        .order_by(account.c.code)
    )
    for row in await session.execute(query):
        report.accounts += 1
        stored, recomputed = Balance(*row[3:7]), Balance(*row[7:11])
        subject = f"account {row.code}"
        if stored != recomputed:
            report.add("balance", subject, f"stored {stored} but its legs sum to {recomputed}")
        if row[1] and stored.debits_posted + stored.debits_pending > stored.credits_posted:
            report.add("limit", subject, "debits exceed credits")
        if row[2] and stored.credits_posted + stored.credits_pending > stored.debits_posted:
            report.add("limit", subject, "credits exceed debits")
    orphans = sa.select(balance_delta.c.id).where(
        ~sa.exists().where(account.c.id == balance_delta.c.account_id)
    )
    for delta_id in (await session.execute(orphans)).scalars():
        report.add("delta", f"balance delta {delta_id}", "belongs to no account")


def _resolutions() -> sa.Select[tuple[uuid.UUID]]:
    return sa.select(transaction.c.related_id).where(
        transaction.c.kind.in_(RESOLUTION_KINDS), transaction.c.status == "committed"
    )


async def _check_holds(session: AsyncSession, report: VerifyReport) -> None:
    resolved = Counter((await session.execute(_resolutions())).scalars())
    for hold_id, count in sorted(resolved.items()):
        if count > 1:
            report.add("hold", f"hold {hold_id}", f"resolved {count} times")
    open_rows = {row.hold_id: row for row in await session.execute(sa.select(pending_hold))}
    holds = sa.select(transaction.c.id).where(
        transaction.c.kind == "hold", transaction.c.status == "committed"
    )
    for hold_id in (await session.execute(holds)).scalars():
        report.holds += 1
        is_open = hold_id in open_rows
        if is_open == (hold_id in resolved):
            state = "both open and resolved" if is_open else "neither open nor resolved"
            report.add("hold", f"hold {hold_id}", state)
    await _check_open_rows(session, report, open_rows)


async def _check_open_rows(
    session: AsyncSession, report: VerifyReport, open_rows: dict[uuid.UUID, sa.Row[Any]]
) -> None:
    connection = await session.connection()
    hold_ids = sorted(open_rows)
    for start in range(0, len(hold_ids), BATCH):
        chunk = hold_ids[start : start + BATCH]
        found = await load_transactions(connection, transaction.c.id.in_(chunk))
        legs = {record.id: record.legs for record in found if record.kind == "hold"}
        for hold_id in chunk:
            row = open_rows[hold_id]
            expected = [
                (row.debit_account_id, "debit", "pending", row.amount),
                (row.credit_account_id, "credit", "pending", row.amount),
            ]
            actual = [(g.account_id, g.side, g.phase, g.amount) for g in legs.get(hold_id, ())]
            if actual != expected:
                report.add("hold", f"hold {hold_id}", "open row does not match the hold's legs")
