"""The reviewers' pages: the queue, one application, decisions through both stages with four
eyes, bulk decisions; the rules are the applications service's."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import audit_events, create_organisation, create_user
from tests.portal.helpers import Browser, csrf_token, sign_in
from tests.portal.test_apply import startup, submitted_application
from voucher_service.applications.models import Application
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role

STAGES = [
    {"name": "初审", "kind": "review", "days": 0},
    {"name": "专家评审", "kind": "review", "days": 0},
    {"name": "公示", "kind": "publicity", "days": 0},
]


async def reviewers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, count: int = 2
) -> list[Browser]:
    authority = await create_organisation(session, kind=OrganisationKind.authority)
    people = []
    for _ in range(count):
        user = await create_user(session, organisation=authority, role=Role.reviewer)
        people.append(await sign_in(app, client, session, user))
    return people


async def state_of(session: AsyncSession, application_id: object) -> Application:
    found = await session.get(Application, application_id, populate_existing=True)
    await session.commit()
    assert found is not None
    return found


async def test_two_reviewers_take_an_application_through_every_stage_to_a_voucher(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    founder, program, provider = await startup(app, client, session, review_stages=STAGES)
    application_id = await submitted_application(founder, program, provider)
    first, second = await reviewers(app, client, session)

    queue = await first.get("/portal/authority/review")
    assert queue.status_code == 200 and "多模态大模型训练" in queue.text
    page = f"/portal/authority/applications/{application_id}"
    shown = await first.get(page)
    assert "25,102.00" in shown.text and "f.pdf" in shown.text

    approve = {"decision": "approve", "comment": "材料齐全"}
    assert (await first.post(f"{page}/decisions", approve)).status_code == 303  # 初审
    assert (await first.post(f"{page}/decisions", approve)).status_code == 303  # 专家评审
    assert (await state_of(session, application_id)).state == "publicity"
    # Four eyes: whoever made the previous decision cannot make the final one.
    refused = await first.post(f"{page}/decisions", approve)
    assert refused.status_code == 422
    assert "error-summary" in refused.text
    assert (await state_of(session, application_id)).voucher_id is None
    events = await audit_events(database, action="application.decision.approve")
    assert any(e.outcome == "failure" for e in events)

    final = await second.post(f"{page}/decisions", approve)
    assert final.status_code == 303
    issued = await state_of(session, application_id)
    assert issued.state == "approved" and issued.voucher_id is not None
    detail = await founder.get(f"/portal/enterprise/applications/{application_id}")
    assert str(issued.voucher_id) in detail.text


async def test_a_returned_application_shows_the_comment_to_the_applicant(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    founder, program, provider = await startup(app, client, session, review_stages=STAGES)
    application_id = await submitted_application(founder, program, provider)
    (reviewer,) = await reviewers(app, client, session, 1)
    page = f"/portal/authority/applications/{application_id}"
    assert (await reviewer.post(f"{page}/decisions", {"decision": "maybe"})).status_code == 422
    returned = await reviewer.post(
        f"{page}/decisions", {"decision": "return", "comment": "请补充付款计划"}
    )
    assert returned.status_code == 303
    detail = await founder.get(f"/portal/enterprise/applications/{application_id}")
    assert "请补充付款计划" in detail.text and "修改后重新提交" in detail.text


async def test_bulk_decisions_report_each_refusal_and_keep_the_rest(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    founder, program, provider = await startup(app, client, session, review_stages=STAGES)
    ids = [
        await submitted_application(founder, program, provider, contract_number=f"HT-B-{n}")
        for n in range(3)
    ]
    (reviewer,) = await reviewers(app, client, session, 1)
    await reviewer.post(
        f"/portal/authority/applications/{ids[0]}/decisions",
        {"decision": "reject", "comment": "不符合条件"},
    )
    bulk = await reviewer.client.post(
        "/portal/authority/review/bulk",
        data={
            "csrf_token": csrf_token(app),
            "application_ids": [str(i) for i in ids],
            "decision": "approve",
            "comment": "",
        },
        headers=reviewer.headers,
    )
    assert bulk.status_code == 303
    assert [(await state_of(session, i)).stage_index for i in ids[1:]] == [1, 1]
    assert (await state_of(session, ids[0])).state == "rejected"


async def test_an_auditor_reads_the_queue_but_cannot_decide(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    founder, program, provider = await startup(app, client, session, review_stages=STAGES)
    application_id = await submitted_application(founder, program, provider)
    authority = await create_organisation(session, kind=OrganisationKind.authority)
    auditor = await sign_in(
        app, client, session, await create_user(session, organisation=authority, role=Role.auditor)
    )
    page = await auditor.get(f"/portal/authority/applications/{application_id}")
    assert page.status_code == 200 and "/decisions" not in page.text
    refused = await auditor.post(
        f"/portal/authority/applications/{application_id}/decisions", {"decision": "approve"}
    )
    assert refused.status_code == 403
