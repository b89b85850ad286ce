"""The startup's reimbursement claims: the list, a new claim with its three proofs, one claim with
its review and proofs. Each page runs the ``/v1/claims`` route function it stands for (the
claims service's rules and audit event), for the enterprise's own people."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, cast

from fastapi import Path, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as PostedFile
from starlette.responses import Response

from voucher_service.applications.schemas import MAX_AMOUNT
from voucher_service.auth.dependencies import EnterpriseUser
from voucher_service.auth.errors import NotFound
from voucher_service.claims import router as claims_api
from voucher_service.claims.errors import InvoiceAlreadyClaimed, NothingCovered, VoucherNotClaimable
from voucher_service.claims.models import Claim
from voucher_service.claims.router import HolderClaim
from voucher_service.claims.schemas import ClaimPublic
from voucher_service.claims.service import PROOF_KINDS
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.kit.i18n import Language
from voucher_service.portal import forms, labels
from voucher_service.portal.csrf import FIELD_NAME
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.money import fen_field
from voucher_service.portal.pages.provider_settlements import names_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs.models import Program, ProgramMode
from voucher_service.settings import Settings
from voucher_service.vouchers.codes import display
from voucher_service.vouchers.models import Voucher, VoucherState

router = portal_router("/enterprise/claims")
CLAIMS = "/portal/enterprise/claims"
#: Where a refusal of the claims service is shown (else on top of the form).
PROBLEM_FIELDS: dict[type[Exception], str] = {
    InvoiceAlreadyClaimed: "invoice_number",
    VoucherNotClaimable: "voucher_id",
    NotFound: "voucher_id",
    NothingCovered: "period_until_on",
}


class ClaimFields(BaseModel):
    """The typed fields of a claim, with the limits of ``POST /v1/claims``' form."""

    voucher_id: uuid.UUID
    invoice_number: str = Field(min_length=1, max_length=100)
    paid_amount: int = Field(gt=0, le=MAX_AMOUNT)
    period_from_on: date
    period_until_on: date


@router.get("")
async def claim_list(
    request: Request,
    principal: EnterpriseUser,
    session: SessionDep,
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The enterprise's claims, newest first (``GET /v1/claims``' query)."""
    form = Form()
    query = select(Claim).where(col(Claim.enterprise_id) == principal.organisation_id)
    rows, next_cursor = await forms.keyset_page(
        session, form, portal_language(request), query, Claim.id, cursor
    )
    context = {
        "claims": rows,
        "next_cursor": next_cursor,
        "programs": await names_of(session, Program, {c.program_id for c in rows}),
        "form": form,
    }
    return render(request, "enterprise/claims.html", context)


async def claimable_vouchers(session: AsyncSession, holder: uuid.UUID) -> list[tuple[str, str]]:
    """(id, "code · programme") of the holder's active vouchers of reimbursement programmes."""
    rows = await session.execute(
        select(Voucher.id, Voucher.code, Program.name)
        .join(Program, col(Program.id) == col(Voucher.program_id))
        .where(
            col(Voucher.holder_id) == holder,
            col(Voucher.mode) == ProgramMode.reimbursement,
            col(Voucher.state) == VoucherState.active,
        )
        .order_by(col(Voucher.valid_until))
    )
    return [(str(vid), f"{display(code)} · {name}") for vid, code, name in rows]


async def _new_page(
    request: Request, session: AsyncSession, holder: uuid.UUID, form: Form, status: int = 200
) -> Response:
    context = {
        "form": form,
        "vouchers": await claimable_vouchers(session, holder),
        "proof_kinds": [(kind, labels.of("attachment_kind", kind)) for kind in PROOF_KINDS],
    }
    return render(request, "enterprise/claim_new.html", context, status=status)


@router.get("/new")
async def new_claim(request: Request, principal: EnterpriseUser, session: SessionDep) -> Response:
    return await _new_page(request, session, principal.organisation_id, Form())


def _proofs(posted: FormData, form: Form, language: Language) -> dict[str, UploadFile]:
    """The three posted proofs; an error beside each one missing."""
    proofs: dict[str, UploadFile] = {}
    for kind in PROOF_KINDS:
        upload = posted.get(kind)
        if isinstance(upload, PostedFile) and upload.filename:
            proofs[kind] = cast(UploadFile, upload)  # the API's parameter type; same object
        else:
            form.errors[kind] = translate(language, N_("Choose a file to upload."))
    return proofs


def _fields(form: Form, language: Language) -> ClaimFields | None:
    values = {name: form.values.get(name, "") for name in ClaimFields.model_fields}
    amount = fen_field(form.values, form.errors, "paid_amount", language)
    if amount is None:
        values.pop("paid_amount")  # "enter a value", or the error fen_field put beside it
    else:
        values["paid_amount"] = amount
    fields = forms.validate(form, ClaimFields, values, language)
    return None if form.errors else fields


async def _file(
    principal: EnterpriseUser,
    session: AsyncSession,
    settings: Settings,
    fields: ClaimFields,
    proofs: dict[str, UploadFile],
) -> ClaimPublic:
    """``POST /v1/claims``: the period check, the proofs' checks, the rules and the audit."""
    return await claims_api.file_claim(
        principal,
        session,
        settings,
        voucher_id=fields.voucher_id,
        invoice_number=fields.invoice_number,
        paid_amount=fields.paid_amount,
        period_from_on=fields.period_from_on,
        period_until_on=fields.period_until_on,
        invoice=proofs["invoice"],
        payment=proofs["payment"],
        delivery=proofs["delivery"],
    )


@router.post("/new")
async def submit_claim(
    request: Request, principal: EnterpriseUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """File the claim; a refusal shows the form again (422) with nothing stored."""
    language = portal_language(request)
    posted = await request.form()
    try:
        values = {k: v.strip() for k, v in posted.items() if isinstance(v, str)}
        form = Form({k: v for k, v in values.items() if k != FIELD_NAME})
        proofs = _proofs(posted, form, language)
        fields = _fields(form, language)
        if fields is None or form.errors:
            return await _new_page(request, session, principal.organisation_id, form, 422)
        try:
            claim = await forms.attempt(
                session, lambda: _file(principal, session, settings, fields, proofs)
            )
        except forms.Refused as refused:
            forms.place(form, refused.reason, language, PROBLEM_FIELDS)
            return await _new_page(request, session, principal.organisation_id, form, 422)
    finally:
        await posted.close()
    message = Flash(N_("Claim %(invoice)s is filed."), params={"invoice": claim.invoice_number})
    return redirect(request, f"{CLAIMS}/{claim.id}", message)


@router.get("/{claim_id}")
async def claim_detail(request: Request, claim: HolderClaim, session: SessionDep) -> Response:
    """The claim, the covered amount, the review and the proofs (``GET /v1/claims/{id}``)."""
    shown = await claims_api.get_claim(claim, session)
    program = await session.get(Program, claim.program_id)
    voucher = await session.get(Voucher, claim.voucher_id)
    context: dict[str, Any] = {
        "claim": shown,
        "program_name": program.name if program else "",
        "voucher_code": display(voucher.code) if voucher else "",
    }
    return render(request, "enterprise/claim.html", context)


@router.get("/{claim_id}/attachments/{attachment_id}")
async def download_proof(
    request: Request,
    principal: EnterpriseUser,
    claim: HolderClaim,
    session: SessionDep,
    settings: SettingsDep,
    attachment_id: Annotated[uuid.UUID, Path()],
) -> FileResponse:
    """A proof of the enterprise's own claim (``GET /v1/claims/{id}/attachments/{id}``)."""
    return await claims_api.download_proof(
        request, principal, session, settings, claim.id, attachment_id
    )
