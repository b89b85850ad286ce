"""What happens in the demo once its cast exists: providers approved, a funded compute voucher
programme, applications at every step of the review, vouchers and redemptions, each through
the same services as the API (so the demo obeys every rule the service enforces)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from providers.registry import service as registry
from providers.registry.models import CatalogueItem, ServiceKind
from voucher_service.applications import review
from voucher_service.applications import service as applications
from voucher_service.applications.models import Application
from voucher_service.applications.schemas import ApplicationCreate
from voucher_service.applications.workflow import Decision
from voucher_service.auth.principal import Principal
from voucher_service.demo.people import DEMO_ACTOR, Cast
from voucher_service.keys.service import KeyRing
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs import configuration
from voucher_service.programs.models import Program
from voucher_service.provider_registry.service import record
from voucher_service.redemptions import service as redemptions
from voucher_service.redemptions.schemas import RedemptionCreate
from voucher_service.settings import Settings
from voucher_service.users.models import Role, User
from voucher_service.vouchers.models import Voucher

#: A minimal valid PDF: the demo's contracts and licences (checked by content like any upload).
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
#: How long an award is listed publicly for objections (公示) before the final approval.
PUBLICITY_DAYS = 7
STAGES = [
    {"name": "初审", "kind": "review", "days": 0},
    {"name": "专家评审", "kind": "review", "days": 0},
    {"name": "公示", "kind": "publicity", "days": PUBLICITY_DAYS},
]
#: (startup index, provider index, amount in yuan, project, how far it gets)
APPLICATIONS = [
    (0, 0, 200_000, "多模态大模型预训练", "approved"),
    (1, 1, 480_000, "医学影像分割模型训练", "approved"),
    (2, 2, 150_000, "中文法律问答大模型微调", "approved"),
    (3, 0, 900_000, "具身智能机器人仿真训练", "expert"),
    (4, 1, 120_000, "药物分子生成模型推理", "submitted"),
    (5, 2, 60_000, "作文批改模型调用", "returned"),
    (0, 1, 80_000, "语音合成模型推理服务", "rejected"),
    (1, 0, 300_000, "病理切片模型二期", "draft"),
    (2, 1, 250_000, "工业质检视觉模型训练", "publicity"),
]


def as_principal(user: User, organisation: Organisation) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        organisation_id=organisation.id,
        organisation_kind=OrganisationKind(organisation.kind),
        role=Role(user.role),
        label=user.email,
    )


async def approve_providers(session: AsyncSession, cast: Cast) -> None:
    for provider in cast.providers:
        change = await registry.propose(
            session,
            provider.id,
            services=[ServiceKind.compute, ServiceKind.model],
            filing_number="沪网信算备-2025-0001",
        )
        await record(session, change, actor=DEMO_ACTOR)
        await record(
            session, await registry.start_publicity(session, provider.id, days=0), actor=DEMO_ACTOR
        )
        await record(session, await registry.approve(session, provider.id), actor=DEMO_ACTOR)
        for resource, unit in (("gpu_hour", "hour"), ("token_1k", "1k_tokens")):
            session.add(CatalogueItem(provider_id=provider.id, resource=resource, unit=unit))
    await session.flush()


async def open_programme(session: AsyncSession, cast: Cast) -> Program:
    today = date.today()
    values: dict[str, Any] = {
        "name": f"{today.year} 年度上海市人工智能算力券",
        "description": "支持本市人工智能初创企业租用智能算力，降低大模型研发成本。",
        "kind": "compute",
        "mode": "point_of_sale",
        "fiscal_year": today.year,
        "rate_tiers": [
            {"rule": "startup", "rate_bp": 5000, "startup_years": 3},
            {"rule": "small_contract", "rate_bp": 4000, "max_contract_amount": 100_000_00},
        ],
        "default_rate_bp": 3000,
        "enterprise_annual_cap_amount": 2_000_000_00,
        "contract_cap_amount": 500_000_00,
        "rounding_unit": "yuan",
        "opens_on": today - timedelta(days=60),
        "closes_on": today + timedelta(days=240),
        "validity_days": 365,
        "allow_holder_providers": True,
        "review_stages": STAGES,
    }
    program = await configuration.create_program(session, values, actor=DEMO_ACTOR)
    for provider in cast.providers:
        await configuration.add_eligible_provider(session, program, provider.id, actor=DEMO_ACTOR)
    await configuration.fund(
        session, program, amount=60_000_000_00, key="demo-funding-1", actor=DEMO_ACTOR
    )
    return await configuration.open_program(session, program, actor=DEMO_ACTOR)


async def apply(
    session: AsyncSession,
    settings: Settings,
    cast: Cast,
    program: Program,
    number: int,
    row: tuple[int, int, int, str, str],
) -> Application:
    startup_index, provider_index, amount, project, _ = row
    startup, provider = cast.startups[startup_index], cast.providers[provider_index]
    founder = next(u for u in cast.people.values() if u.organisation_id == startup.id)
    actor = as_principal(founder, startup)
    start = date.today() - timedelta(days=20 + number)
    body = ApplicationCreate(
        program_id=program.id,
        provider_id=provider.id,
        contract_number=f"SH-AI-{date.today().year}-{number:04d}",
        contract_amount=amount * 100,
        contract_signed_on=start - timedelta(days=7),
        contract_starts_on=start,
        contract_ends_on=start + timedelta(days=365),
        project_name=project,
        project_summary=f"{startup.name}：{project}，租用{provider.name}的智能算力。",
    )
    application = await applications.create(session, body, actor=actor, enterprise=startup)
    if row[4] == "draft":
        return application
    for kind in ("contract", "business_licence"):
        await applications.add_attachment(
            session,
            application,
            kind=kind,
            name=f"{kind}.pdf",
            content=PDF,
            actor=actor,
            data_dir=settings.data_dir,
            max_bytes=settings.attachment_max_bytes,
        )
    return await applications.submit(session, application, actor=actor, enterprise=startup)


async def decide(
    session: AsyncSession,
    application: Application,
    decision: Decision,
    comment: str,
    who: Principal,
) -> None:
    await review.decide(session, application, decision, comment, actor=who)


async def review_all(
    session: AsyncSession, cast: Cast, submitted: list[tuple[Application, str]]
) -> None:
    first = as_principal(cast.person("reviewer@jxw.demo.gov.cn"), cast.authority)
    second = as_principal(cast.person("reviewer2@jxw.demo.gov.cn"), cast.authority)
    for application, outcome in submitted:
        if outcome == "returned":
            await decide(
                session, application, Decision.return_, "请补充算力使用计划和付款凭证。", first
            )
        elif outcome == "rejected":
            await decide(
                session,
                application,
                Decision.reject,
                "合同服务内容为语音外包，不属于算力租用。",
                first,
            )
        elif outcome in ("expert", "publicity", "approved"):
            await decide(session, application, Decision.approve, "材料齐全，符合申报条件。", first)
        if outcome in ("publicity", "approved"):
            await decide(session, application, Decision.approve, "专家评审通过。", first)
        if outcome == "approved":
            await published_weeks_ago(session, application)
            await decide(session, application, Decision.approve, "公示无异议，同意发放。", second)


async def published_weeks_ago(session: AsyncSession, application: Application) -> None:
    """The demo's story began weeks ago: these awards' publicity ended before today.

    The review service starts the publicity period now (``PUBLICITY_DAYS`` long) and refuses the
    final approval until it is over; the demo, which tells the whole story in one go, moves the
    end of the period back to yesterday so that the awarded applications can be approved.
    """
    assert application.publicity_until is not None  # noqa: S101 - it has just entered publicity
    application.publicity_until = utcnow() - timedelta(days=1)
    session.add(application)
    await session.flush()


async def redeem_some(
    session: AsyncSession, settings: Settings, cast: Cast, program: Program
) -> None:
    """A few bills paid partly with the approved vouchers (captured at once)."""
    keyring = KeyRing(settings.key_dir, settings.signing_key_file)
    keyring.ensure()
    vouchers = list(
        await session.scalars(select(Voucher).where(col(Voucher.program_id) == program.id))
    )
    for index, voucher in enumerate(vouchers):
        application = await session.get(Application, voucher.application_id)
        assert application is not None  # noqa: S101 - every voucher here comes from one
        provider = next(p for p in cast.providers if p.id == application.provider_id)
        operator = next(u for u in cast.people.values() if u.organisation_id == provider.id)
        for bill in range(2 + index):
            hours = 120 + 40 * bill
            request = RedemptionCreate(
                voucher_code=voucher.code,
                order_id=f"INV-{provider.id.hex[:6]}-{index}{bill}",
                bill_amount=hours * 2_500,
                currency="CNY",
                usage={
                    "resource": "gpu_hour",
                    "quantity": Decimal(hours),
                    "unit": "hour",
                    "unit_price": 2_500,
                },
                capture=True,
            )
            await redemptions.redeem(
                session, keyring, provider.id, request, actor=as_principal(operator, provider)
            )


async def tell(session: AsyncSession, settings: Settings, cast: Cast) -> None:
    """Everything after the cast, in one unit of work."""
    await approve_providers(session, cast)
    program = await open_programme(session, cast)
    submitted = []
    for number, row in enumerate(APPLICATIONS, 1):
        application = await apply(session, settings, cast, program, number, row)
        if row[4] != "draft":
            submitted.append((application, row[4]))
    await review_all(session, cast, submitted)
    await redeem_some(session, settings, cast, program)
