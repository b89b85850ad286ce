"""Journeys through the portal in a real browser (Debian's Chromium driven by Playwright).

Each journey starts from a fresh browser context against the same running service and makes
its own enterprises and users, so the journeys do not depend on each other.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import HAVE_CHROMIUM, SYSADMIN_EMAIL, LiveServer, arrange, shoot
from tests.factories import DEFAULT_PASSWORD, create_organisation, create_user, make_credit_code
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role

pytestmark = pytest.mark.skipif(
    not HAVE_CHROMIUM,
    reason="no Chromium at /usr/bin/chromium: apt-get install chromium fonts-noto-cjk "
    "(.ci/run does) to run the browser tests",
)
NEW_PASSWORD = "Lantern-Harbour-58"
Journey = Callable[[Callable[[Any], None]], None]
_serial = itertools.count(1)


def sign_in(page: Any, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/portal/login")
    page.get_by_label("邮箱地址").fill(email)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_load_state()


def open_nav(page: Any, name: str) -> None:
    """Follow a link of the main navigation."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=name).click()
    page.wait_for_load_state()


def shown_secret(page: Any) -> str:
    return str(page.locator("#shown-secret").inner_text()).strip()


def test_startup_registers_signs_in_and_invites_a_member(
    journey: Journey, live_server: LiveServer, screenshots: Path
) -> None:
    journey(lambda page: startup_steps(page, live_server, screenshots))


def startup_steps(page: Any, live_server: LiveServer, screenshots: Path) -> None:
    n = next(_serial)
    page.goto("/portal/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    shoot(page, screenshots, "01-home")
    page.get_by_role("link", name="企业注册").first.click()
    code = make_credit_code("310115")
    field = page.get_by_label("统一社会信用代码")
    field.fill(code[:-1] + ("0" if code[-1] != "0" else "1"))
    assert "校验位" in page.locator("#f-credit_code-live").inner_text()
    page.get_by_label("机构名称").fill(f"上海智算未来科技有限公司{n}")
    page.get_by_label("成立日期").fill("2024-03-18")
    page.get_by_label("企业规模").select_option("small")
    page.get_by_label("所属行业").fill("I65 软件和信息技术服务业")
    page.get_by_label("姓名").fill("李晓明")
    page.get_by_label("邮箱地址").fill(f"founder{n}@zhisuan.example.cn")
    page.get_by_label("密码", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_label("再次输入密码").fill(DEFAULT_PASSWORD)
    shoot(page, screenshots, "02-register-live-credit-code-check")
    # Sent with the wrong code anyway: the server refuses it and keeps everything typed.
    page.get_by_role("button", name="注册", exact=True).click()
    assert page.locator(".error-summary").is_visible()
    assert page.get_by_label("机构名称").input_value() == f"上海智算未来科技有限公司{n}"
    shoot(page, screenshots, "03-register-refused-by-the-server")
    page.get_by_label("统一社会信用代码").fill(code)
    assert "校验位正确" in page.locator("#f-credit_code-live").inner_text()
    page.get_by_label("密码", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_label("再次输入密码").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="注册", exact=True).click()
    page.wait_for_url(re.compile(r"/portal/login$"))
    assert "注册成功" in page.locator(".notice").inner_text()

    sign_in(page, f"founder{n}@zhisuan.example.cn")
    page.wait_for_url(re.compile(r"/portal/enterprise$"))
    assert page.get_by_role("heading", name=f"上海智算未来科技有限公司{n}").is_visible()
    shoot(page, screenshots, "04-enterprise-dashboard")

    open_nav(page, "成员管理")
    page.get_by_label("姓名").fill("张雨")
    page.get_by_label("邮箱地址").fill(f"member{n}@zhisuan.example.cn")
    page.get_by_role("button", name="发送邀请").click()
    link = shown_secret(page)
    assert "/portal/password?token=vpt_" in link
    shoot(page, screenshots, "05-enterprise-members-invitation-shown-once")
    page.reload()
    assert page.locator("#shown-secret").count() == 0

    # The invited colleague sets a password from the link and signs in (no "members" page).
    colleague = page.context.browser.new_context(base_url=live_server.url, locale="zh-CN")
    other = colleague.new_page()
    other.goto(link)
    other.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    other.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    other.get_by_role("button", name="设置密码").click()
    sign_in(other, f"member{n}@zhisuan.example.cn", NEW_PASSWORD)
    other.wait_for_url(re.compile(r"/portal/enterprise$"))
    assert other.get_by_role("link", name="成员管理").count() == 0
    colleague.close()


def _provider_operator(live_server: LiveServer, n: int) -> str:
    email = f"ops{n}@cloud.example.cn"

    async def work(session: Any) -> None:
        provider = await create_organisation(
            session, kind=OrganisationKind.provider, name=f"华东算力中心有限公司{n}"
        )
        await create_user(
            session, organisation=provider, role=Role.operator, email=email, name="赵工"
        )

    arrange(live_server.settings, work)
    return email


def test_provider_operator_creates_credentials_and_sets_a_webhook(
    journey: Journey, live_server: LiveServer, screenshots: Path
) -> None:
    email = _provider_operator(live_server, next(_serial))
    journey(lambda page: provider_steps(page, live_server, screenshots, email))


def provider_steps(page: Any, live_server: LiveServer, screenshots: Path, email: str) -> None:
    sign_in(page, email)
    page.wait_for_url(re.compile(r"/portal/provider$"))
    open_nav(page, "API 凭据")
    page.get_by_label("凭据名称").fill("计费系统（生产环境）")
    page.get_by_role("button", name="创建凭据").click()
    secret = shown_secret(page)
    assert len(secret) > 30
    shoot(page, screenshots, "06-provider-credentials-secret-shown-once")
    page.reload()
    assert page.locator("#shown-secret").count() == 0

    open_nav(page, "回调设置")
    page.get_by_label("回调 URL").fill(live_server.hook_url)
    page.get_by_label("redemption.captured").check()
    page.get_by_label("settlement.issued").check()
    page.get_by_role("button", name="保存回调地址").click()
    assert shown_secret(page).startswith("whsec_")
    shoot(page, screenshots, "07-provider-webhook-secret-shown-once")
    page.get_by_role("button", name="发送测试事件").click()
    page.wait_for_url(re.compile(r"/portal/provider/webhook/deliveries"))
    for _ in range(50):  # the embedded worker delivers within a second or two
        if page.locator("td .badge.ok").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    assert page.locator("td .badge.ok").first.inner_text() == "已送达"
    shoot(page, screenshots, "08-provider-delivery-log")
    open_nav(page, "工作台")
    shoot(page, screenshots, "09-provider-dashboard")


def test_sysadmin_resets_a_password_and_reads_the_audit_log(
    journey: Journey, live_server: LiveServer, screenshots: Path
) -> None:
    journey(lambda page: sysadmin_steps(page, live_server, screenshots))


def sysadmin_steps(page: Any, live_server: LiveServer, screenshots: Path) -> None:
    n = next(_serial)
    sign_in(page, SYSADMIN_EMAIL)
    page.wait_for_url(re.compile(r"/portal/authority$"))
    shoot(page, screenshots, "10-authority-dashboard")

    open_nav(page, "机构管理")
    page.get_by_label("类型").last.select_option("provider")
    page.locator("#register").get_by_label("机构名称").fill(f"西部智算云服务有限公司{n}")
    page.locator("#register").get_by_label("统一社会信用代码").fill(make_credit_code("510100"))
    page.get_by_role("button", name="登记机构").click()
    assert "已登记" in page.locator(".notice").inner_text()
    page.get_by_label("姓名").fill("陈运维")
    page.get_by_label("邮箱地址").fill(f"ops{n}@west.example.cn")
    page.get_by_label("角色").select_option("operator")
    page.get_by_role("button", name="创建用户").click()
    setup_link = shown_secret(page)
    shoot(page, screenshots, "11-authority-user-created-link-shown-once")

    operator = page.context.browser.new_context(base_url=live_server.url, locale="zh-CN")
    other = operator.new_page()
    other.goto(setup_link)
    other.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    other.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    other.get_by_role("button", name="设置密码").click()
    sign_in(other, f"ops{n}@west.example.cn", NEW_PASSWORD)
    other.wait_for_url(re.compile(r"/portal/provider$"))

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="重置密码").click()
    reset_link = shown_secret(page)
    assert reset_link != setup_link
    shoot(page, screenshots, "12-authority-password-reset-link-shown-once")
    other.reload()  # the reset ended the operator's session at once
    assert "/portal/login" in other.url
    other.goto(reset_link)
    other.get_by_label("新密码", exact=True).fill(NEW_PASSWORD + "x")
    other.get_by_label("再次输入新密码").fill(NEW_PASSWORD + "x")
    other.get_by_role("button", name="设置密码").click()
    sign_in(other, f"ops{n}@west.example.cn", NEW_PASSWORD + "x")
    other.wait_for_url(re.compile(r"/portal/provider$"))
    operator.close()

    open_nav(page, "审计日志")
    page.get_by_label("操作类型前缀").fill("user.")
    page.get_by_role("button", name="筛选").click()
    assert page.locator("code", has_text="user.password_reset").count() >= 1
    shoot(page, screenshots, "13-authority-audit-log")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    exported = Path(download.value.path()).read_text("utf-8-sig")  # with a BOM, for Excel
    assert exported.startswith("事件编号,时间（北京时间）,操作")  # headers in the page's language
    assert "user.password_reset" in exported

    open_nav(page, "用户管理")
    shoot(page, screenshots, "14-authority-users")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    shoot(page, screenshots, "15-authority-users-english")
