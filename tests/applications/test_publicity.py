"""The public publicity page and objections: no login, only awards in publicity, rate-limited."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.applications.helpers import (
    authority_people,
    contract,
    decide,
    enterprise_user,
    submitted,
)
from tests.programs.factories import create_program, create_provider

STAGES = [
    {"name": "preliminary", "kind": "review", "days": 0},
    {"name": "publicity", "kind": "publicity", "days": 7},
]


async def test_objections_only_during_publicity_and_rate_limited(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_provider(session)
    program = await create_program(
        session, providers=[provider], budget=1_000_000_00, review_stages=STAGES
    )
    _enterprise, headers = await enterprise_user(app, session)
    application = await submitted(client, headers, contract(provider, program))
    url = f"/v1/publicity/{application['id']}/objections"
    not_yet = await client.post(url, json={"text": "Too early to object."})
    assert not_yet.status_code == 404
    assert (await client.get("/v1/publicity")).json()["items"] == []

    (reviewer,) = await authority_people(app, session, 1)
    assert (await decide(client, reviewer, application["id"])).status_code == 200
    listed = (await client.get("/v1/publicity", params={"limit": 1})).json()
    assert [entry["id"] for entry in listed["items"]] == [application["id"]]
    assert set(listed["items"][0]) == {
        "id",
        "program_id",
        "program_name",
        "enterprise_name",
        "provider_name",
        "project_name",
        "award_amount",
        "publicity_until",
    }

    app.state.settings.rate_limit_objection_per_address = 3  # the early attempt counted too
    for text in ("First objection.", "Second objection."):
        assert (
            await client.post(url, json={"text": text, "contact": "138****"})
        ).status_code == 201
    limited = await client.post(url, json={"text": "Third objection."})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    short = await client.post(url, json={"text": "x"})
    assert short.status_code in (422, 429)

    admin_view = (
        await client.get(f"/v1/admin/applications/{application['id']}", headers=reviewer)
    ).json()
    assert [o["text"] for o in admin_view["objections"]] == [
        "First objection.",
        "Second objection.",
    ]
    mine = (await client.get(f"/v1/applications/{application['id']}", headers=headers)).json()
    assert "objections" not in mine
