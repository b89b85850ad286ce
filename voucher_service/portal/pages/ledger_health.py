"""Ledger health for finance and audit: the trial balance per kind of account, the last verify
run (and a button to run one), the last sealed checkpoint, and each programme's money (budget,
committed, spent, paid out, returned, outstanding) — all from the services behind
``/v1/admin/ledger`` and the programmes' ledger figures."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.dependencies import KeyRingDep, SessionDep
from voucher_service.ledger_admin import router as ledger_api
from voucher_service.ledger_admin import service
from voucher_service.ledger_admin.router import LedgerReader, Verifier
from voucher_service.portal.flash import Flash
from voucher_service.portal.i18n import N_
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import redirect, render
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program

router = portal_router("/authority/ledger")
LEDGER = "/portal/authority/ledger"


@router.get("")
async def ledger_health(request: Request, principal: LedgerReader, session: SessionDep) -> Response:
    """Balanced or not, verified when and with what result, sealed up to where; programmes."""
    rows = list(await session.scalars(select(Program).order_by(col(Program.id).desc())))
    trial = await service.trial_balance(session)
    context = {
        "trial": trial,
        "health": await service.health(session, trial),
        "programmes": [(p, await programs.figures(session, p)) for p in rows],
        "can_verify": principal.role in roles_of(Verifier),
    }
    return render(request, "authority/ledger.html", context)


@router.post("/verify")
async def verify(
    request: Request, principal: Verifier, session: SessionDep, keyring: KeyRingDep
) -> Response:
    """Recompute the whole ledger now and keep the result (``POST /v1/admin/ledger/verify``:
    the same route's work, audited)."""
    run = await ledger_api.verify(principal, session, keyring)
    if run.ok:
        return redirect(request, LEDGER, Flash(N_("The ledger verifies: no break found.")))
    message = Flash(
        N_("The ledger does not verify: %(count)s breaks found."),
        "bad",
        params={"count": str(len(run.breaks))},
    )
    return redirect(request, LEDGER, message)
