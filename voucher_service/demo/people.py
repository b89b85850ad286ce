"""The demo's cast: the authority with one person per role, start-ups and providers.

Credit codes are made from a fixed body with the GB 32100 check character computed, so they
are valid and the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.audit.service import AuditActor
from voucher_service.organisations import service as organisations
from voucher_service.organisations.credit_code import check_character
from voucher_service.organisations.models import EnterpriseSize, Organisation, OrganisationKind
from voucher_service.settings import Settings
from voucher_service.users import service as users
from voucher_service.users.models import Role, User

DEMO_ACTOR = AuditActor.system("cli:demo")
PASSWORD = "Demo-Voucher-2026"  # noqa: S105 - the demo's published password
AUTHORITY_NAME = "上海市经济和信息化委员会"

#: (role, name, e-mail): one person for each authority role (two reviewers: four eyes).
AUTHORITY_PEOPLE = [
    (Role.sysadmin, "王立新", "admin@jxw.demo.gov.cn"),
    (Role.program_admin, "陈静", "programme@jxw.demo.gov.cn"),
    (Role.reviewer, "刘洋", "reviewer@jxw.demo.gov.cn"),
    (Role.reviewer, "赵敏", "reviewer2@jxw.demo.gov.cn"),
    (Role.finance, "孙海燕", "finance@jxw.demo.gov.cn"),
    (Role.auditor, "周建国", "auditor@jxw.demo.gov.cn"),
]

#: (name, region, founded, size, industry, founder, e-mail)
STARTUPS = [
    (
        "上海智算未来科技有限公司",
        "310115",
        date(2024, 3, 18),
        "small",
        "I65 软件和信息技术服务业",
        "李晓明",
        "founder@zhisuan.demo.cn",
    ),
    (
        "上海深瞳医疗影像科技有限公司",
        "310104",
        date(2023, 7, 2),
        "micro",
        "I65 软件和信息技术服务业",
        "何佳怡",
        "ceo@shentong.demo.cn",
    ),
    (
        "上海言语之间人工智能有限公司",
        "310110",
        date(2022, 11, 9),
        "small",
        "I64 互联网和相关服务",
        "吴思远",
        "owner@yanyu.demo.cn",
    ),
    (
        "上海量子织机机器人有限公司",
        "310112",
        date(2021, 5, 20),
        "medium",
        "C34 通用设备制造业",
        "郑凯",
        "founder@zhiji.demo.cn",
    ),
    (
        "上海星河药物设计有限公司",
        "310113",
        date(2024, 9, 1),
        "micro",
        "M73 研究和试验发展",
        "冯雪",
        "ceo@xinghe.demo.cn",
    ),
    (
        "上海墨韵教育科技有限公司",
        "310106",
        date(2020, 4, 15),
        "small",
        "P83 教育",
        "蒋涛",
        "owner@moyun.demo.cn",
    ),
]

#: (name, region, operator, e-mail)
PROVIDERS = [
    ("上海临港算力科技有限公司", "310115", "黄志强", "ops@lingang-compute.demo.cn"),
    ("华东智算云（上海）有限公司", "310104", "林晓", "ops@huadong-cloud.demo.cn"),
    ("上海浦江大模型服务有限公司", "310101", "许文", "ops@pujiang-llm.demo.cn"),
]


def demo_credit_code(region: str, serial: int) -> str:
    """A valid, stable unified social credit code: 91 + region + 9 characters + check."""
    body = f"91{region}MA{serial:07d}"
    return body + check_character(body)


@dataclass
class Cast:
    authority: Organisation
    people: dict[str, User] = field(default_factory=dict)  # by e-mail
    startups: list[Organisation] = field(default_factory=list)
    providers: list[Organisation] = field(default_factory=list)

    def person(self, email: str) -> User:
        return self.people[email]


async def _user(
    session: AsyncSession,
    settings: Settings,
    cast: Cast,
    org: Organisation,
    who: tuple[Role, str, str],
) -> None:
    role, name, email = who
    cast.people[email] = await users.create_user(
        session,
        settings,
        organisation=org,
        email=email,
        name=name,
        role=role,
        password=PASSWORD,
        actor=DEMO_ACTOR,
    )


async def create_cast(session: AsyncSession, settings: Settings) -> Cast:
    """The authority, its staff, the start-ups with their founders, the providers and operators."""
    authority = await organisations.create_organisation(
        session, kind=OrganisationKind.authority, name=AUTHORITY_NAME, actor=DEMO_ACTOR
    )
    cast = Cast(authority)
    for who in AUTHORITY_PEOPLE:
        await _user(session, settings, cast, authority, who)
    for serial, (name, region, founded, size, industry, founder, email) in enumerate(STARTUPS, 1):
        startup = await organisations.create_organisation(
            session,
            kind=OrganisationKind.enterprise,
            name=name,
            actor=DEMO_ACTOR,
            credit_code=demo_credit_code(region, serial),
            founded_on=founded,
            size=EnterpriseSize(size),
            industry=industry,
            contact_email=email,
        )
        cast.startups.append(startup)
        await _user(session, settings, cast, startup, (Role.owner, founder, email))
    for serial, (name, region, operator, email) in enumerate(PROVIDERS, 101):
        provider = await organisations.create_organisation(
            session,
            kind=OrganisationKind.provider,
            name=name,
            actor=DEMO_ACTOR,
            credit_code=demo_credit_code(region, serial),
            contact_email=email,
        )
        cast.providers.append(provider)
        await _user(session, settings, cast, provider, (Role.operator, operator, email))
    return cast
