"""Authorisation cases of applications, publicity and claims.

An application or claim belongs to its enterprise: the enterprise's owner and members act on
their own (another enterprise's is "not found"); reviewers, programme admins and auditors read
any; reviewers and programme admins decide (never sysadmins or auditors); attachments are
downloaded by the owner enterprise and by any authority user. The publicity page and objections
need no login.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from ledger.sqltypes import utcnow
from tests.authz import rules
from tests.authz.case import RouteCase, constant
from tests.authz.world import Actor, World
from tests.programs.factories import create_program, create_provider, create_voucher
from voucher_service.applications import files
from voucher_service.applications.models import Application, Attachment
from voucher_service.applications.service import attachment_root
from voucher_service.claims.models import Claim
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs.models import Program
from voucher_service.users.models import Role

ENTERPRISES = (OrganisationKind.enterprise,)
AUTHORITY = (OrganisationKind.authority,)
PEOPLE = (Role.owner, Role.member)
READERS = rules.roles(Role.reviewer, Role.program_admin, Role.auditor)
DECIDERS = rules.roles(Role.reviewer, Role.program_admin)
STAGES = [
    {"name": "preliminary", "kind": "review", "days": 0},
    {"name": "publicity", "kind": "publicity", "days": 5},
]
PDF = b"%PDF-1.7\n%%EOF\n"
#: Routes that take files are tried without one: an allowed caller gets past authorisation to
#: the "no file" problem (422), a refused one never gets that far.
VALIDATION_ONLY = frozenset({422})
_numbers = itertools.count(1)


async def programme(world: World) -> tuple[Program, Organisation]:
    """An open, funded programme with one approved provider (once per world)."""
    if "program" not in world.extras:
        provider = await create_provider(world.session)
        world.extras["provider"] = provider
        world.extras["program"] = await create_program(
            world.session, providers=[provider], budget=100_000_000_00, review_stages=STAGES
        )
    return world.extras["program"], world.extras["provider"]


async def make_application(world: World, owner: Organisation, **fields: Any) -> Application:
    program, provider = await programme(world)
    values: dict[str, Any] = {
        "program_id": program.id,
        "enterprise_id": owner.id,
        "provider_id": provider.id,
        "created_by": world.extras.setdefault("creator", await _creator(world)),
        "contract_number": f"MATRIX-{next(_numbers)}",
        "contract_amount": 100_000_00,
        "contract_signed_on": date.today() - timedelta(days=10),
        "contract_starts_on": date.today() - timedelta(days=5),
        "contract_ends_on": date.today() + timedelta(days=360),
        "project_name": "Matrix project",
        "eligible_amount": 30_000_00,
    }
    values.update(fields)
    application = Application(**values)
    world.session.add(application)
    await world.session.commit()
    return application


async def _creator(world: World) -> Any:
    actor = next(a for a in world.actors if a.role == Role.owner)
    return actor.user_id


async def stored_attachment(world: World, owner: Organisation, **link: Any) -> Attachment:
    checked = files.check("proof.pdf", PDF, max_bytes=1024)
    files.store(attachment_root(world.app.state.settings.data_dir), checked, PDF)
    attachment = Attachment(
        organisation_id=owner.id,
        kind=link.pop("kind", "contract"),
        name=checked.name,
        content_type=checked.content_type,
        size_bytes=checked.size,
        sha256=checked.sha256,
        uploaded_by=await _creator(world),
        **link,
    )
    world.session.add(attachment)
    await world.session.commit()
    return attachment


# --- targets ---------------------------------------------------------------------------------


async def a_draft(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    return {"application_id": str((await make_application(world, owner)).id)}


async def a_complete_draft(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    application = await make_application(world, owner)
    for kind in ("contract", "business_licence"):
        await stored_attachment(world, owner, application_id=application.id, kind=kind)
    return {"application_id": str(application.id)}


async def an_attachment(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    application = await make_application(world, owner)
    attachment = await stored_attachment(world, owner, application_id=application.id)
    return {"application_id": str(application.id), "attachment_id": str(attachment.id)}


async def a_submitted(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    application = await make_application(world, owner, state="submitted", round=1)
    return {"application_id": str(application.id)}


async def in_publicity(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    world.app.state.settings.rate_limit_objection_per_address = 0
    application = await make_application(
        world,
        owner,
        state="publicity",
        stage_index=1,
        round=1,
        publicity_until=utcnow() + timedelta(days=5),
    )
    return {"application_id": str(application.id)}


async def a_pro_rata_programme(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
    program = await create_program(world.session, oversubscription_policy="pro_rata")
    return {"program_id": str(program.id)}


async def make_claim(world: World, owner: Organisation) -> Claim:
    provider = await create_provider(world.session)
    voucher = await create_voucher(
        world.session, amount=10_000_00, holder=owner, provider=provider, mode="reimbursement"
    )
    claim = Claim(
        program_id=voucher.program_id,
        voucher_id=voucher.id,
        enterprise_id=owner.id,
        created_by=await _creator(world),
        invoice_number=f"INV-{next(_numbers)}",
        paid_amount=10_000_00,
        period_from_on=date.today() - timedelta(days=30),
        period_until_on=date.today(),
        eligible_amount=3_000_00,
        eligibility={},
    )
    world.session.add(claim)
    await world.session.commit()
    return claim


async def a_claim(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    return {"claim_id": str((await make_claim(world, owner)).id)}


async def a_claim_proof(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    claim = await make_claim(world, owner)
    attachment = await stored_attachment(world, owner, claim_id=claim.id, kind="invoice")
    return {"claim_id": str(claim.id), "attachment_id": str(attachment.id)}


# --- payloads and rules ----------------------------------------------------------------------


async def new_application(world: World, _actor: Actor) -> dict[str, Any]:
    program, provider = await programme(world)
    return {
        "program_id": str(program.id),
        "provider_id": str(provider.id),
        "contract_number": f"NEW-{next(_numbers)}",
        "contract_amount": 100_000_00,
        "contract_signed_on": str(date.today() - timedelta(days=3)),
        "contract_starts_on": str(date.today()),
        "contract_ends_on": str(date.today() + timedelta(days=365)),
        "project_name": "New project",
    }


def owner_enterprise_or_authority(actor: Actor, owner: Organisation | None) -> bool:
    """Downloads: the owner enterprise's people, and any person of the authority."""
    if not actor.is_user or actor.organisation is None:
        return False
    if actor.organisation.kind == OrganisationKind.authority:
        return True
    return actor.role in PEOPLE and owner is not None and actor.organisation == owner


APPLICATION_ROUTES: list[RouteCase] = [
    # The enterprise's own applications.
    RouteCase("POST", "/v1/applications", rules.roles(*PEOPLE), json=new_application),
    RouteCase("GET", "/v1/applications", rules.roles(*PEOPLE)),
    RouteCase(
        "GET",
        "/v1/applications/{application_id}",
        rules.roles_on_own(*PEOPLE),
        target=a_draft,
        target_kinds=ENTERPRISES,
    ),
    RouteCase(
        "PATCH",
        "/v1/applications/{application_id}",
        rules.roles_on_own(*PEOPLE),
        target=a_draft,
        target_kinds=ENTERPRISES,
        json=constant({"project_name": "Renamed"}),
    ),
    RouteCase(
        "GET",
        "/v1/applications/{application_id}/eligibility",
        rules.roles_on_own(*PEOPLE),
        target=a_draft,
        target_kinds=ENTERPRISES,
    ),
    RouteCase(
        "POST",
        "/v1/applications/{application_id}/attachments",
        rules.roles_on_own(*PEOPLE),
        target=a_draft,
        target_kinds=ENTERPRISES,
        form=constant({"kind": "contract"}),
        ok=VALIDATION_ONLY,
    ),
    RouteCase(
        "GET",
        "/v1/applications/{application_id}/attachments/{attachment_id}",
        owner_enterprise_or_authority,
        target=an_attachment,
        target_kinds=ENTERPRISES,
    ),
    RouteCase(
        "POST",
        "/v1/applications/{application_id}/submit",
        rules.roles_on_own(*PEOPLE),
        target=a_complete_draft,
        target_kinds=ENTERPRISES,
    ),
    RouteCase(
        "POST",
        "/v1/applications/{application_id}/withdraw",
        rules.roles_on_own(*PEOPLE),
        target=a_draft,
        target_kinds=ENTERPRISES,
    ),
    # The authority's review.
    RouteCase("GET", "/v1/admin/applications", READERS),
    RouteCase(
        "GET",
        "/v1/admin/applications/{application_id}",
        READERS,
        target=a_draft,
        target_kinds=ENTERPRISES,
    ),
    RouteCase(
        "POST",
        "/v1/admin/applications/{application_id}/decisions",
        DECIDERS,
        target=a_submitted,
        target_kinds=ENTERPRISES,
        json=constant({"decision": "approve", "comment": "matrix"}),
    ),
    RouteCase(
        "POST",
        "/v1/admin/programs/{program_id}/batches/close",
        rules.roles(Role.program_admin),
        target=a_pro_rata_programme,
        target_kinds=AUTHORITY,
    ),
    # The public publicity page.
    RouteCase("GET", "/v1/publicity", rules.anyone),
    RouteCase(
        "POST",
        "/v1/publicity/{application_id}/objections",
        rules.anyone,
        target=in_publicity,
        target_kinds=ENTERPRISES,
        json=constant({"text": "An objection from the matrix."}),
    ),
    # Reimbursement claims.
    RouteCase(
        "POST",
        "/v1/claims",
        rules.roles(*PEOPLE),
        form=constant({"invoice_number": "X"}),
        ok=VALIDATION_ONLY,
    ),
    RouteCase("GET", "/v1/claims", rules.roles(*PEOPLE)),
    RouteCase(
        "GET",
        "/v1/claims/{claim_id}",
        rules.roles_on_own(*PEOPLE),
        target=a_claim,
        target_kinds=ENTERPRISES,
    ),
    RouteCase(
        "GET",
        "/v1/claims/{claim_id}/attachments/{attachment_id}",
        owner_enterprise_or_authority,
        target=a_claim_proof,
        target_kinds=ENTERPRISES,
    ),
    RouteCase("GET", "/v1/admin/claims", READERS),
    RouteCase(
        "GET", "/v1/admin/claims/{claim_id}", READERS, target=a_claim, target_kinds=ENTERPRISES
    ),
    RouteCase(
        "POST",
        "/v1/admin/claims/{claim_id}/decisions",
        DECIDERS,
        target=a_claim,
        target_kinds=ENTERPRISES,
        json=constant({"decision": "reject", "reason": "matrix"}),
    ),
]
