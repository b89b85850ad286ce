"""Linking audit events into a hash chain, verifying it, and pruning it after retention.

Only the ``audit.chain`` job (exclusive: one worker at a time) writes the chain, so writers of
events never contend for its head. Verification checks both layers: every event's content hash,
and the chain from the retention anchor to the recorded head without gaps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.audit.models import GENESIS_HASH, AuditChain, AuditEvent
from voucher_service.audit.service import content_hash
from voucher_service.kit.sql import insert_ignoring_conflicts

BATCH = 500


def chain_hash(seq: int, previous: str, content: str) -> str:
    """The chain hash of the event at ``seq`` whose predecessor's chain hash is ``previous``."""
    return hashlib.sha256(f"{seq}:{previous}:{content}".encode()).hexdigest()


async def _head(session: AsyncSession) -> AuditChain:
    await session.execute(insert_ignoring_conflicts(session, AuditChain, [{"id": 1}]))
    head = await session.scalar(select(AuditChain).where(col(AuditChain.id) == 1).with_for_update())
    assert head is not None  # noqa: S101 - inserted just above
    return head


async def link_pending(session: AsyncSession, *, limit: int = BATCH) -> int:
    """Give up to ``limit`` unlinked events their place in the chain, in id order."""
    head = await _head(session)
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(col(AuditEvent.chain_seq).is_(None))
            .order_by(col(AuditEvent.id))
            .limit(limit)
        )
    ).all()
    seq, previous = head.last_seq, head.last_hash
    for event in events:
        seq += 1
        previous = chain_hash(seq, previous, event.content_hash)
        await session.execute(
            update(AuditEvent)
            .where(col(AuditEvent.id) == event.id)
            .values(chain_seq=seq, chain_hash=previous)
        )
    if events:
        head.last_seq, head.last_hash, head.updated_at = seq, previous, utcnow()
    await session.flush()
    return len(events)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification; ``problem`` names the first break found."""

    ok: bool
    linked_checked: int
    unlinked_checked: int
    head_seq: int
    problem: str | None = None
    event_id: str | None = None


async def _stored_head(session: AsyncSession) -> AuditChain:
    head = await session.get(AuditChain, 1)
    return head or AuditChain(id=1)


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Recompute every content hash and the chain; report the first break."""
    head = await _stored_head(session)
    seq, previous, checked = head.pruned_seq, head.pruned_hash, 0
    while True:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(col(AuditEvent.chain_seq) > seq)
                .order_by(col(AuditEvent.chain_seq))
                .limit(BATCH)
            )
        ).all()
        for event in events:
            problem = _check_linked(event, seq + 1, previous)
            if problem:
                return ChainReport(False, checked, 0, head.last_seq, problem, str(event.id))
            seq, previous, checked = seq + 1, event.chain_hash or "", checked + 1
        if len(events) < BATCH:
            break
    if (seq, previous) != (head.last_seq, head.last_hash):
        problem = f"chain ends at {seq} but the recorded head is {head.last_seq}"
        return ChainReport(False, checked, 0, head.last_seq, problem)
    return await _verify_unlinked(session, checked, head.last_seq)


def _check_linked(event: AuditEvent, expected_seq: int, previous: str) -> str | None:
    if event.chain_seq != expected_seq:
        return f"event {expected_seq} is missing (next is {event.chain_seq})"
    if content_hash(event) != event.content_hash:
        return f"event {expected_seq} was altered (content hash differs)"
    if chain_hash(expected_seq, previous, event.content_hash) != event.chain_hash:
        return f"event {expected_seq} breaks the chain (chain hash differs)"
    return None


async def _verify_unlinked(session: AsyncSession, linked: int, head_seq: int) -> ChainReport:
    checked, after = 0, None
    while True:
        query = select(AuditEvent).where(col(AuditEvent.chain_seq).is_(None))
        if after is not None:
            query = query.where(col(AuditEvent.id) > after)
        events = (await session.scalars(query.order_by(col(AuditEvent.id)).limit(BATCH))).all()
        for event in events:
            if content_hash(event) != event.content_hash:
                problem = "an event not yet linked was altered (content hash differs)"
                return ChainReport(False, linked, checked, head_seq, problem, str(event.id))
            checked += 1
        if len(events) < BATCH:
            return ChainReport(True, linked, checked, head_seq)
        after = events[-1].id


async def prune(session: AsyncSession, *, before: datetime) -> int:
    """Delete the linked events written before ``before``, moving the anchor to the last one.

    Only a prefix of the chain is deleted (up to the first event that is still young), so the
    rest verifies from the anchor.
    """
    head = await _head(session)
    cutoff = before
    first_young = await session.scalar(
        select(func.min(AuditEvent.chain_seq)).where(col(AuditEvent.created_at) >= cutoff)
    )
    last_old = (first_young - 1) if first_young is not None else head.last_seq
    if last_old <= head.pruned_seq:
        return 0
    anchor = await session.scalar(
        select(AuditEvent.chain_hash).where(col(AuditEvent.chain_seq) == last_old)
    )
    if anchor is None:
        return 0
    # The anchor moves first: the delete trigger allows deleting only below it.
    head.pruned_seq, head.pruned_hash, head.updated_at = last_old, anchor, utcnow()
    await session.flush()
    result = await session.execute(delete(AuditEvent).where(col(AuditEvent.chain_seq) <= last_old))
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["GENESIS_HASH", "ChainReport", "chain_hash", "link_pending", "prune", "verify_chain"]
