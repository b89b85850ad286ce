"""Portal forms: validation with the API's schemas, field errors, input kept, secrets once."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from tests.factories import DEFAULT_PASSWORD, create_organisation, create_user, make_credit_code
from tests.portal.helpers import Browser, sign_in
from voucher_service.auth.registration import register_enterprise  # noqa: F401 - the service
from voucher_service.auth.schemas import Registration
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms
from voucher_service.portal.forms import Form
from voucher_service.portal.pages.public import REGISTRATION_FIELDS
from voucher_service.users.models import Role, User


def registration(**changes: str) -> dict[str, str]:
    form = {
        "name": "北京智算科技有限公司",
        "credit_code": make_credit_code(),
        "founded_on": "2024-03-18",
        "size": "small",
        "owner_name": "李晓明",
        "email": "founder@zhisuan.example.cn",
        "password": DEFAULT_PASSWORD,
        "password_confirm": DEFAULT_PASSWORD,
    }
    return {**form, **changes}


async def anonymous(app: FastAPI, client: httpx.AsyncClient) -> Browser:
    return Browser(app, client, None)


async def test_registration_through_the_portal_uses_the_registration_service(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser = await anonymous(app, client)
    response = await browser.post("/portal/register", registration())
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login"
    organisation = await session.scalar(
        select(Organisation).where(col(Organisation.name) == "北京智算科技有限公司")
    )
    assert organisation is not None
    assert organisation.region_code == "110000"
    owner = await session.scalar(select(User).where(col(User.organisation_id) == organisation.id))
    assert owner is not None
    assert owner.role == Role.owner
    landing = await client.get("/portal/login", headers={"Cookie": response.headers["set-cookie"]})
    assert "注册成功" in landing.text


async def test_a_bad_credit_code_is_explained_beside_its_field_and_the_input_kept(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    code = make_credit_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    browser = await anonymous(app, client)
    response = await browser.post("/portal/register", registration(credit_code=wrong))
    assert response.status_code == 422
    assert "校验位（第 18 位）不正确" in response.text
    assert 'id="f-credit_code-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'value="{wrong}"' in response.text
    assert 'value="北京智算科技有限公司"' in response.text
    assert DEFAULT_PASSWORD not in response.text  # never sent back
    assert (
        await session.scalar(select(Organisation).where(col(Organisation.credit_code) == wrong))
    ) is None


async def test_a_refused_registration_leaves_nothing_behind(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create_user(session, email="taken@example.cn")
    browser = await anonymous(app, client)
    response = await browser.post(
        "/portal/register", registration(email="taken@example.cn", name="Another Ltd")
    )
    assert response.status_code == 422
    assert "该邮箱已有账户" in response.text
    assert 'id="f-email-error"' in response.text
    left = await session.scalar(select(Organisation).where(col(Organisation.name) == "Another Ltd"))
    assert left is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "请填写此项"),
        ({"email": "not-an-address"}, "email", "请填写有效的邮箱地址"),
        ({"founded_on": "18/03/2024"}, "founded_on", "请填写日期"),
        ({"password_confirm": "Different-Pass-1"}, "password_confirm", "两次输入的密码不一致"),
        ({"password": "short", "password_confirm": "short"}, "password", "密码"),
    ],
)
async def test_field_errors_are_tied_to_their_inputs(
    app: FastAPI, client: httpx.AsyncClient, changes: dict[str, str], field: str, message: str
) -> None:
    browser = await anonymous(app, client)
    response = await browser.post("/portal/register", registration(**changes))
    assert response.status_code == 422
    assert f'<span class="error" id="f-{field}-error">' in response.text
    assert f'aria-describedby="f-{field}-hint f-{field}-error"' in response.text or (
        f'aria-describedby="f-{field}-error"' in response.text
    )
    assert message in response.text
    assert f'href="#f-{field}"' in response.text  # the error summary links to the field


async def test_english_messages_when_english_is_chosen(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post("/portal/register", data={}, headers={"Cookie": "lang=en"})
    assert response.status_code == 403
    assert "This form has expired" in response.text


def test_validation_errors_map_nested_locations_to_form_fields() -> None:
    form = Form()
    data = {
        "organisation": {"name": "X", "credit_code": "x"},
        "owner": {"email": "a", "name": "", "password": "p"},
    }
    assert forms.validate(form, Registration, data, "en", REGISTRATION_FIELDS) is None
    assert set(form.errors) >= {"name", "email", "owner_name"}
    assert form.errors["name"] == "Enter at least 2 characters."
    assert form.errors["owner_name"] == "Enter a value."


async def test_output_is_escaped(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await create_organisation(session, name="<script>alert(1)</script> Ltd")
    owner = await create_user(session, organisation=organisation, role=Role.owner)
    browser = await sign_in(app, client, session, owner)
    page = await browser.get("/portal/enterprise")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in page.text


async def test_an_invitation_link_is_shown_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await create_user(session, role=Role.owner)
    browser = await sign_in(app, client, session, owner)
    invited = await browser.post(
        "/portal/enterprise/members", {"name": "张雨", "email": "member@zhisuan.example.cn"}
    )
    assert invited.status_code == 303
    flash_cookie = invited.headers["set-cookie"].split(";")[0]
    first = await client.get(
        "/portal/enterprise/members",
        headers={"Cookie": f"{browser.headers['Cookie']}; {flash_cookie}"},
    )
    assert "/portal/password?token=vpt_" in first.text
    assert "flash=" in first.headers["set-cookie"]  # deleted as it is shown
    again = await browser.get("/portal/enterprise/members")
    assert "token=vpt_" not in again.text
    assert "member@zhisuan.example.cn" in again.text


async def test_a_tampered_flash_cookie_is_ignored(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await create_user(session, role=Role.owner)
    browser = await sign_in(app, client, session, owner)
    page = await client.get(
        "/portal/enterprise", headers={"Cookie": f"{browser.headers['Cookie']}; flash=forged"}
    )
    assert page.status_code == 200
    assert 'class="secret"' not in page.text


async def test_invalid_filters_show_the_form_again_not_an_error_page(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await create_user(session, role=Role.sysadmin)
    browser = await sign_in(app, client, session, admin)
    response = await browser.get(
        "/portal/authority/audit?since=yesterday&actor_id=nobody&cursor=%%%"
    )
    assert response.status_code == 422
    assert 'value="yesterday"' in response.text
    assert "这不是有效的编号" in response.text
