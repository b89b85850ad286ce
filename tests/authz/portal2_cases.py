"""Authorisation cases of the portal's programme, application, review and voucher pages.

Tried exactly like ``portal_cases`` (a browser with a session cookie and a CSRF token); each
page has the rule of the API route whose service it calls.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from ledger.sqltypes import utcnow
from tests.applications.helpers import PDF
from tests.authz import rules
from tests.authz.case import constant
from tests.authz.portal_cases import FORM_OR_REFUSED_BY_RULES, form, page
from tests.authz.world import Actor, World, unique
from tests.factories import create_user
from tests.portal.helpers import WORKED_EXAMPLE_PROGRAM
from tests.programs.factories import create_program, create_provider, create_voucher
from voucher_service.applications import files
from voucher_service.applications import service as applications
from voucher_service.applications.models import Application, Attachment
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs.models import Program
from voucher_service.users.models import ROLES_BY_KIND, Role
from voucher_service.vouchers.models import VoucherProvider

ANY_ORG = (OrganisationKind.authority,)  # the target's owner does not matter: one attempt
ENTERPRISES = (OrganisationKind.enterprise,)
ENTERPRISE_PEOPLE = rules.roles(Role.owner, Role.member)
ENTERPRISE_PEOPLE_ON_OWN = rules.roles_on_own(Role.owner, Role.member)


def attachment_readers(actor: Actor, owner: Organisation | None) -> bool:
    """The API's download rule: the owner enterprise's people, and the authority's."""
    return ENTERPRISE_PEOPLE_ON_OWN(actor, owner) or (
        actor.is_user and actor.kind == OrganisationKind.authority
    )


async def open_programme(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
    program = await create_program(world.session)
    return {"program_id": str(program.id)}


PROGRAMME_ROUTES = [
    page("/portal/programmes", rules.anyone),
    page(
        "/portal/programmes/{program_id}",
        rules.anyone,
        target=open_programme,
        target_kinds=ANY_ORG,
    ),
]


async def the_programme(world: World) -> tuple[Program, Organisation]:
    """One open, funded programme (the worked example's rules) with an approved provider."""
    if "programme" not in world.extras:
        provider = await create_provider(world.session)
        program = await create_program(
            world.session, providers=[provider], budget=10_000_000_00, **WORKED_EXAMPLE_PROGRAM
        )
        world.extras["programme"] = (program, provider)
    found: tuple[Program, Organisation] = world.extras["programme"]
    return found


def contract_fields() -> dict[str, str]:
    return {
        "contract_number": unique("HT-M-"),
        "contract_amount": "200000",
        "contract_signed_on": "2024-12-20",
        "contract_starts_on": "2025-01-01",
        "contract_ends_on": "2026-12-31",
        "project_name": "矩阵",
    }


async def new_contract(world: World, _actor: Actor) -> dict[str, Any]:
    program, provider = await the_programme(world)
    return {**contract_fields(), "program_id": str(program.id), "provider_id": str(provider.id)}


async def draft_application(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    """A draft application of ``owner`` (an enterprise), with one attachment."""
    program, provider = await the_programme(world)
    author = await create_user(world.session, organisation=owner, role=Role.member)
    fields = contract_fields()
    application = Application(
        program_id=program.id,
        enterprise_id=owner.id,
        provider_id=provider.id,
        created_by=author.id,
        contract_number=fields["contract_number"],
        contract_amount=200_000_00,
        contract_signed_on=date(2024, 12, 20),
        contract_starts_on=date(2025, 1, 1),
        contract_ends_on=date(2026, 12, 31),
        project_name="矩阵",
    )
    world.session.add(application)
    await world.session.flush()
    checked = files.check("contract.pdf", PDF, max_bytes=1 << 20)
    data_dir = world.app.state.settings.data_dir
    files.store(applications.attachment_root(data_dir), checked, PDF)
    attachment = Attachment(
        organisation_id=owner.id,
        application_id=application.id,
        kind="contract",
        name=checked.name,
        content_type=checked.content_type,
        size_bytes=checked.size,
        sha256=checked.sha256,
        uploaded_by=author.id,
    )
    world.session.add(attachment)
    await world.session.commit()
    return {"application_id": str(application.id), "attachment_id": str(attachment.id)}


async def contract_form(_world: World, _actor: Actor) -> dict[str, Any]:
    return contract_fields()


def on_draft(method: str, suffix: str, **kwargs: Any) -> Any:
    """A page or form of one enterprise's draft application."""
    build = page if method == "GET" else form
    kwargs.setdefault("allow", ENTERPRISE_PEOPLE_ON_OWN)
    return build(
        f"/portal/enterprise/applications/{{application_id}}{suffix}",
        target=draft_application,
        target_kinds=ENTERPRISES,
        **kwargs,
    )


APPLY_ROUTES = [
    page("/portal/enterprise/apply", ENTERPRISE_PEOPLE),
    form("/portal/enterprise/apply", ENTERPRISE_PEOPLE, form=new_contract),
    page("/portal/enterprise/applications", ENTERPRISE_PEOPLE),
    on_draft("GET", ""),
    on_draft("GET", "/contract"),
    on_draft("POST", "/contract", form=contract_form),
    on_draft("GET", "/project"),
    on_draft("POST", "/project", form=constant({"project_name": "矩阵", "project_summary": ""})),
    on_draft("GET", "/declaration"),
    on_draft("POST", "/declaration", form=constant({"related_party": "no", "truthful": "yes"})),
    on_draft("GET", "/attachments"),
    # Without a file the form is shown again (422): who may try is what is checked here.
    on_draft(
        "POST", "/attachments", form=constant({"kind": "contract"}), ok=FORM_OR_REFUSED_BY_RULES
    ),
    on_draft("GET", "/attachments/{attachment_id}", allow=attachment_readers),
    on_draft("GET", "/review"),
    on_draft("POST", "/submit", ok=FORM_OR_REFUSED_BY_RULES),
    on_draft("POST", "/withdraw"),
]

REVIEW_READERS = rules.roles(Role.reviewer, Role.program_admin, Role.auditor)
DECIDERS = rules.roles(Role.reviewer, Role.program_admin)


def on_review(method: str, suffix: str, allow: rules.Rule, **kwargs: Any) -> Any:
    """A reviewer's page or form of one application (any enterprise's: rules by role)."""
    build = page if method == "GET" else form
    return build(
        f"/portal/authority/applications/{{application_id}}{suffix}",
        allow,
        target=draft_application,
        target_kinds=ENTERPRISES,
        **kwargs,
    )


REVIEW_ROUTES = [
    page("/portal/authority/review", REVIEW_READERS),
    form("/portal/authority/review/bulk", DECIDERS, form=constant({"decision": "approve"})),
    on_review("GET", "", REVIEW_READERS),
    # A draft cannot be decided on: the service refuses (422) those who may try.
    on_review(
        "POST",
        "/decisions",
        DECIDERS,
        form=constant({"decision": "reject", "comment": "矩阵"}),
        ok=FORM_OR_REFUSED_BY_RULES,
    ),
    on_review("GET", "/attachments/{attachment_id}", attachment_readers),
]


async def held_voucher(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    """A voucher held by ``owner`` whose programme lets holders authorise more providers, with a
    second provider authorised already (to withdraw) and a third one free (to authorise)."""
    contracted, extra, free = [await create_provider(world.session) for _ in range(3)]
    program = await create_program(
        world.session,
        providers=[contracted, extra, free],
        budget=1_000_00,
        allow_holder_providers=True,
    )
    voucher = await create_voucher(
        world.session, holder=owner, provider=contracted, program=program, amount=1_000_00
    )
    world.session.add(VoucherProvider(voucher_id=voucher.id, provider_id=extra.id, source="holder"))
    await world.session.commit()
    world.extras["free_provider"] = str(free.id)
    return {"voucher_id": str(voucher.id), "provider_id": str(extra.id)}


async def free_provider(world: World, _actor: Actor) -> dict[str, Any]:
    return {"provider_id": world.extras["free_provider"]}


def on_voucher(method: str, suffix: str, allow: rules.Rule, **kwargs: Any) -> Any:
    build = page if method == "GET" else form
    return build(
        f"/portal/enterprise/vouchers/{{voucher_id}}{suffix}",
        allow,
        target=held_voucher,
        target_kinds=ENTERPRISES,
        **kwargs,
    )


VOUCHER_ROUTES = [
    page("/portal/enterprise/vouchers", ENTERPRISE_PEOPLE),
    on_voucher("GET", "", ENTERPRISE_PEOPLE_ON_OWN),
    on_voucher("POST", "/providers", rules.roles_on_own(Role.owner), form=free_provider),
    on_voucher("POST", "/providers/{provider_id}/withdraw", rules.roles_on_own(Role.owner)),
]

AUTHORITY_PEOPLE = rules.roles(*sorted(ROLES_BY_KIND[OrganisationKind.authority]))
REPORT_ROUTES = [
    page("/portal/authority/programmes", AUTHORITY_PEOPLE),
    page(
        "/portal/authority/programmes/{program_id}",
        AUTHORITY_PEOPLE,
        target=open_programme,
        target_kinds=ANY_ORG,
    ),
]


async def award_in_publicity(world: World, owner: Organisation, actor: Actor) -> dict[str, str]:
    """An application of ``owner`` in publicity for five more days."""
    ids = await draft_application(world, owner, actor)
    application = await world.session.get(Application, uuid.UUID(ids["application_id"]))
    assert application is not None
    application.state = "publicity"
    application.eligible_amount = 25_102_00
    application.publicity_until = utcnow() + timedelta(days=5)
    await world.session.commit()
    return ids


PUBLICITY_ROUTES = [
    page("/portal/publicity", rules.anyone),
    form(
        "/portal/publicity/{application_id}/objections",
        rules.anyone,
        target=award_in_publicity,
        target_kinds=ANY_ORG,
        form=constant({"text": "该企业与服务商存在关联关系。", "contact": ""}),
        # Every actor objects from one address: past the API's limit it is 429, still "allowed".
        ok=frozenset({303, 429}),
    ),
]

PORTAL2_ROUTES = [
    page("/portal/provider/redemptions", rules.roles(Role.operator)),
    *PUBLICITY_ROUTES,
    *PROGRAMME_ROUTES,
    *APPLY_ROUTES,
    *REVIEW_ROUTES,
    *VOUCHER_ROUTES,
    *REPORT_ROUTES,
]
