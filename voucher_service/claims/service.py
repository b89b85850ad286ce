"""Filing and deciding reimbursement claims.

The covered amount uses the programme's published rule with the voucher's rate: the paid amount
prorated to the programme's eligible period, times the rate, capped per claim as a share of the
awarded contract and by what is left on the voucher, truncated to the programme's unit. The
annual cap is not applied again: it was applied when the voucher was awarded.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.sqltypes import utcnow
from voucher_service.applications import files
from voucher_service.applications.models import Application, Attachment
from voucher_service.applications.rules import working
from voucher_service.applications.service import attachment_root
from voucher_service.audit import service as audit
from voucher_service.auth.errors import NotFound
from voucher_service.auth.principal import Principal
from voucher_service.claims.errors import (
    AmountAboveEligible,
    ClaimStateConflict,
    InsufficientVoucherBalance,
    InvoiceAlreadyClaimed,
    NothingCovered,
    ReasonRequired,
    VoucherNotClaimable,
)
from voucher_service.claims.models import Claim, ClaimState
from voucher_service.claims.schemas import ClaimDecision
from voucher_service.programs import eligibility
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program, ProgramMode
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher, VoucherState

#: The proofs every claim carries, one file each.
PROOF_KINDS = ("invoice", "payment", "delivery")


@dataclasses.dataclass(frozen=True)
class ClaimRequest:
    voucher_id: uuid.UUID
    invoice_number: str
    paid_amount: int
    period_from_on: date
    period_until_on: date
    proofs: dict[str, tuple[str, bytes]]  # kind -> (file name, content)


def _already() -> InvoiceAlreadyClaimed:
    return InvoiceAlreadyClaimed(
        "This invoice number has already been claimed in this programme.",
        detail_zh="该发票号已在本项目中申报。",
    )


async def _holders_voucher(
    session: AsyncSession, voucher_id: uuid.UUID, holder: uuid.UUID
) -> Voucher:
    voucher = await vouchers.get_voucher(session, voucher_id)
    if voucher is None or voucher.holder_id != holder:
        raise NotFound()
    if voucher.mode != ProgramMode.reimbursement or voucher.state != VoucherState.active:
        raise VoucherNotClaimable(
            "Only an active voucher of a reimbursement programme takes claims.",
            detail_zh="仅报销模式项目的有效券可以申报。",
            voucher_state=voucher.state,
        )
    return voucher


async def covered(
    session: AsyncSession, program: Program, voucher: Voucher, request: ClaimRequest
) -> tuple[int, dict[str, Any]]:
    """The covered amount of a claim by the programme's rules, with its working."""
    rule = programs.eligibility_rule(program)
    contract_amount = await session.scalar(
        select(Application.contract_amount).where(col(Application.id) == voucher.application_id)
    )
    share = rule.caps.per_claim_share_bp
    caps = eligibility.Caps(
        per_contract_amount=(
            contract_amount * share // eligibility.BASIS_POINTS
            if share is not None and contract_amount is not None
            else None
        ),
        per_claim_share_bp=share if contract_amount is None else None,
    )
    rule = dataclasses.replace(
        rule,
        tiers=(eligibility.RateTier(eligibility.TierRule.DEFAULT, voucher.rate_bp),),
        caps=caps,
    )
    claim_as_contract = eligibility.Contract(
        amount=request.paid_amount, start_on=request.period_from_on, end_on=request.period_until_on
    )
    try:
        result = eligibility.compute(
            rule, eligibility.Applicant(), claim_as_contract, on=request.period_until_on
        )
    except eligibility.IneligibleContract as exc:
        raise NothingCovered(f"{exc}.", detail_zh="申报期间与项目支持期没有重叠。") from exc
    balance = (await vouchers.balance_of(session, voucher)).available
    amount = min(result.eligible_amount, balance)
    explained = working(result, 0) | {"voucher_balance": balance, "covered_amount": amount}
    if amount <= 0:
        raise NothingCovered(
            "The rules and the voucher's balance cover nothing of this claim.",
            detail_zh="按规则和券余额，本次申报无可报销金额。",
        )
    return amount, explained


async def file_claim(
    session: AsyncSession,
    request: ClaimRequest,
    *,
    actor: Principal,
    data_dir: Path,
    max_bytes: int,
) -> Claim:
    """Check everything (files first), then store the proofs and the claim."""
    checked = {
        kind: files.check(name, content, max_bytes=max_bytes)
        for kind, (name, content) in request.proofs.items()
    }
    voucher = await _holders_voucher(session, request.voucher_id, actor.organisation_id)
    program = await programs.get_program(session, voucher.program_id)
    taken = await session.scalar(
        select(Claim.id).where(
            col(Claim.program_id) == program.id, col(Claim.invoice_number) == request.invoice_number
        )
    )
    if taken is not None:
        raise _already()
    amount, explained = await covered(session, program, voucher, request)
    claim = Claim(
        program_id=program.id,
        voucher_id=voucher.id,
        enterprise_id=voucher.holder_id,
        created_by=actor.id,
        invoice_number=request.invoice_number,
        paid_amount=request.paid_amount,
        period_from_on=request.period_from_on,
        period_until_on=request.period_until_on,
        eligible_amount=amount,
        eligibility=explained,
    )
    session.add(claim)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _already() from exc
    for kind, proof in checked.items():
        files.store(attachment_root(data_dir), proof, request.proofs[kind][1])
        session.add(
            Attachment(
                organisation_id=voucher.holder_id,
                claim_id=claim.id,
                kind=kind,
                name=proof.name,
                content_type=proof.content_type,
                size_bytes=proof.size,
                sha256=proof.sha256,
                uploaded_by=actor.id,
            )
        )
    await session.flush()
    await audit.record(
        session,
        action="claim.submitted",
        actor=actor,
        target=("claim", claim.id),
        after={
            "voucher_id": str(voucher.id),
            "invoice_number": claim.invoice_number,
            "paid_amount": claim.paid_amount,
            "eligible_amount": amount,
        },
    )
    return claim


async def _lock(session: AsyncSession, claim_id: uuid.UUID) -> Claim:
    query = (
        select(Claim)
        .where(col(Claim.id) == claim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one()


def _approved_amount(claim: Claim, body: ClaimDecision) -> int:
    amount = claim.eligible_amount if body.amount is None else body.amount
    if amount > claim.eligible_amount:
        raise AmountAboveEligible(
            f"The rules cover at most {claim.eligible_amount} fen of this claim.",
            detail_zh=f"按规则本次最多可报销 {claim.eligible_amount} 分。",
            eligible_amount=claim.eligible_amount,
        )
    if amount < claim.eligible_amount and not (body.reason or "").strip():
        raise ReasonRequired(
            "Say why the approved amount is lower than the covered amount.",
            detail_zh="核定金额低于可报销金额时须说明理由。",
        )
    return amount


async def decide(
    session: AsyncSession, claim: Claim, body: ClaimDecision, *, actor: Principal
) -> Claim:
    """Approve (moving voucher → enterprise payable through the ledger) or reject with reason."""
    claim = await _lock(session, claim.id)
    if claim.state != ClaimState.submitted:
        raise ClaimStateConflict(
            f"The claim is already {claim.state}.", detail_zh="该报销申请已处理。"
        )
    if body.decision == "reject":
        if not (body.reason or "").strip():
            raise ReasonRequired("Say why the claim is rejected.", detail_zh="驳回须说明理由。")
        claim.state = ClaimState.rejected
    else:
        claim.approved_amount = _approved_amount(claim, body)
        claim.transaction_id = await _pay_from_voucher(session, claim)
        claim.state = ClaimState.approved
    claim.reason = body.reason
    claim.decided_by = actor.id
    claim.decided_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        action=f"claim.{claim.state}",
        actor=actor,
        target=("claim", claim.id),
        before={"state": ClaimState.submitted, "eligible_amount": claim.eligible_amount},
        after={
            "state": claim.state,
            "approved_amount": claim.approved_amount,
            "reason": claim.reason,
        },
    )
    return claim


async def _pay_from_voucher(session: AsyncSession, claim: Claim) -> uuid.UUID:
    voucher = await vouchers.get_voucher(session, claim.voucher_id, for_update=True)
    assert voucher is not None  # noqa: S101 - a foreign key
    specs = [ledger.chart.voucher(voucher.id), ledger.chart.enterprise_payable(claim.enterprise_id)]
    accounts = await ledger.open_accounts(session, specs)
    amount = claim.approved_amount or 0
    outcome = await ledger.transfer(
        session,
        f"claim:{claim.id}:approve",
        [ledger.Transfer(accounts[specs[0].code], accounts[specs[1].code], amount)],
        reference=f"claim:{claim.id}",
        details={
            "claim_id": str(claim.id),
            "voucher_id": str(voucher.id),
            "invoice_number": claim.invoice_number,
        },
    )
    if not outcome.ok:
        raise InsufficientVoucherBalance(
            "The voucher's balance no longer covers this amount.", detail_zh="券余额已不足。"
        )
    await vouchers.mark_exhausted_if_empty(session, voucher)
    return outcome.transaction.id
