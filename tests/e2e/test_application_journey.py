"""The startup's journey in a real browser: it registers, applies with an attachment through
the guided form, two reviewers take the application through both stages and the publicity
(four eyes), and the startup finds its voucher. Screenshots of every main page on the way."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from tests.applications.helpers import PDF
from tests.e2e.conftest import HAVE_CHROMIUM, LiveServer, arrange, shoot
from tests.e2e.test_journeys import Journey, sign_in
from tests.factories import DEFAULT_PASSWORD, create_organisation, create_user, make_credit_code
from tests.portal.helpers import WORKED_EXAMPLE_PROGRAM
from tests.programs.factories import create_program, create_provider
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason="no Chromium at /usr/bin/chromium")
_serial = itertools.count(1)
STAGES = [
    {"name": "初审", "kind": "review", "days": 0},
    {"name": "专家评审", "kind": "review", "days": 0},
    {"name": "公示", "kind": "publicity", "days": 0},
]


def _programme_and_reviewers(live_server: LiveServer, n: int) -> dict[str, str]:
    async def work(session: Any) -> dict[str, str]:
        provider = await create_provider(
            session,
            organisation=await create_organisation(
                session, kind=OrganisationKind.provider, name=f"上海临港算力科技有限公司{n}"
            ),
        )
        program = await create_program(
            session,
            name=f"2026 年度上海市算力券（第{n}批）",
            description="支持人工智能初创企业租用智能算力。",
            providers=[provider],
            budget=50_000_000_00,
            review_stages=STAGES,
            **WORKED_EXAMPLE_PROGRAM,
        )
        authority = await create_organisation(
            session, kind=OrganisationKind.authority, name="上海市经济和信息化委员会"
        )
        emails = {}
        for who, name, role in (
            ("first", "刘洋", Role.reviewer),
            ("second", "赵敏", Role.reviewer),
            ("admin", "陈静", Role.program_admin),
        ):
            email = f"{who}{n}@jxw.example.gov.cn"
            await create_user(session, organisation=authority, role=role, email=email, name=name)
            emails[who] = email
        return {**emails, "program": program.name, "provider": provider.name}

    found: dict[str, str] = arrange(live_server.settings, work)  # type: ignore[assignment]
    return found


def test_a_startup_applies_and_two_reviewers_approve_it_into_a_voucher(
    journey: Journey, live_server: LiveServer, screenshots: Path
) -> None:
    n = next(_serial)
    cast = _programme_and_reviewers(live_server, n)
    founder = f"founder-apply{n}@zhisuan.example.cn"
    journey(lambda page: apply_steps(page, screenshots, cast, founder, n))
    journey(lambda page: review_steps(page, screenshots, cast, cast["first"], final=False))
    journey(lambda page: review_steps(page, screenshots, cast, cast["second"], final=True))
    journey(lambda page: voucher_steps(page, screenshots, founder))
    journey(lambda page: report_steps(page, screenshots, cast))


def report_steps(page: Any, screenshots: Path, cast: dict[str, str]) -> None:
    sign_in(page, cast["admin"])
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="申报项目").click()
    page.get_by_role("link", name=cast["program"], exact=True).click()  # not its set-up link
    assert page.locator("figure.chart svg").count() >= 2  # burn-down and funnel
    shoot(page, screenshots, "31-programme-report")


def apply_steps(page: Any, screenshots: Path, cast: dict[str, str], founder: str, n: int) -> None:
    page.goto("/portal/programmes")
    page.get_by_role("link", name=cast["program"]).click()
    shoot(page, screenshots, "20-programme-rules")
    page.goto("/portal/register")
    page.get_by_label("统一社会信用代码").fill(make_credit_code("310115"))
    page.get_by_label("机构名称").fill(f"上海智算未来科技有限公司（申报{n}）")
    page.get_by_label("成立日期").fill("2024-03-18")
    page.get_by_label("企业规模").select_option("small")
    page.get_by_label("姓名").fill("李晓明")
    page.get_by_label("邮箱地址").fill(founder)
    page.get_by_label("密码", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_label("再次输入密码").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="注册", exact=True).click()
    page.wait_for_url(re.compile(r"/portal/login$"))
    sign_in(page, founder)
    page.wait_for_url(re.compile(r"/portal/enterprise$"))

    page.get_by_role("link", name="申领券").first.click()
    page.get_by_label(re.compile(re.escape(cast["program"]))).check()
    shoot(page, screenshots, "21-apply-1-programme")
    page.get_by_role("button", name="下一步").click()
    page.get_by_label(re.compile(re.escape(cast["provider"]))).check()
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("合同编号").fill(f"LG-2025-{n:04d}")
    page.get_by_label("合同金额（元）").fill("200000")
    page.get_by_label("签订日期").fill("2024-12-20")
    page.get_by_label("服务开始日期").fill("2025-01-01")
    page.get_by_label("服务结束日期").fill("2026-12-31")
    page.get_by_label("项目名称").fill("多模态医学影像大模型训练")
    shoot(page, screenshots, "22-apply-3-contract")
    page.get_by_role("button", name="保存并继续").click()
    page.get_by_label("项目简介").fill("基于国产算力训练多模态医学影像大模型，用于早期肺结节筛查。")
    page.get_by_role("button", name="保存并继续").click()
    page.get_by_label("否").check()
    page.get_by_label(re.compile("本企业承诺")).check()
    page.get_by_role("button", name="保存并继续").click()
    for kind, name in (("contract", "算力租赁合同.pdf"), ("business_licence", "营业执照.pdf")):
        page.get_by_label("文件类型").select_option(kind)
        page.set_input_files(
            "input[name=file]",
            files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}],
        )
        page.get_by_role("button", name="上传").click()
        assert "已上传" in page.get_by_role("status").inner_text()
    shoot(page, screenshots, "23-apply-6-attachments")
    page.get_by_role("link", name="下一步：核对").click()
    assert "25,102.00" in page.locator(".big-amount").inner_text()  # DESIGN §3's example
    shoot(page, screenshots, "24-apply-7-review-with-the-working")
    page.get_by_role("button", name="提交申报").click()
    assert "申报已提交" in page.get_by_role("status").inner_text()
    shoot(page, screenshots, "25-application-submitted")


def review_steps(
    page: Any, screenshots: Path, cast: dict[str, str], email: str, *, final: bool
) -> None:
    sign_in(page, email)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审核队列").click()
    if not final:
        shoot(page, screenshots, "26-review-queue")
    page.get_by_role("link", name="多模态医学影像大模型训练").first.click()
    if final:
        shoot(page, screenshots, "28-review-final-approval")
    stages = 1 if final else 2
    for _ in range(stages):
        page.get_by_label("通过", exact=True).check()
        page.locator("textarea[name=comment]").fill("材料齐全，符合申报条件。")
        page.get_by_role("button", name="提交审核意见").click()
        assert "审核意见已记录" in page.get_by_role("status").inner_text()
    if not final:
        # Four eyes: the same reviewer cannot make the final approval too.
        page.get_by_label("通过", exact=True).check()
        page.get_by_role("button", name="提交审核意见").click()
        assert page.locator(".error-summary").is_visible()
        shoot(page, screenshots, "27-review-four-eyes-refusal")
    else:
        assert "已批准" in page.locator(".page-head").inner_text()


def voucher_steps(page: Any, screenshots: Path, founder: str) -> None:
    sign_in(page, founder)
    page.wait_for_url(re.compile(r"/portal/enterprise$"))
    assert "25,102.00" in page.locator(".voucher-card").first.inner_text()
    shoot(page, screenshots, "29-enterprise-dashboard-with-voucher")
    page.locator(".voucher-card").first.click()
    assert page.locator("figure.chart svg").count() == 1
    shoot(page, screenshots, "30-voucher-detail")
