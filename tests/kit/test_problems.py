"""Every failure is an RFC 9457 problem with a stable code, and every response has a request id."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from voucher_service.kit.problems import PROBLEM_MEDIA_TYPE, ProblemError


class Thing(BaseModel):
    name: str
    amount: int


class OutOfThings(ProblemError):
    status = 409
    code = "out_of_things"
    title = "Out of things"
    title_zh = "没有了"


@pytest.fixture
def routes(app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.post("/test/things")
    async def create_thing(thing: Thing) -> Thing:
        return thing

    @router.get("/test/out")
    async def out() -> None:
        raise OutOfThings("None left.", detail_zh="一个也没有了。", remaining=0)

    @router.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(router)
    return app


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/no/such/route"), 404, "not_found")


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/healthz"), 405, "method_not_allowed")


@pytest.mark.usefixtures("routes")
async def test_validation_error_lists_each_field(client: httpx.AsyncClient) -> None:
    body = assert_problem(
        await client.post("/test/things", json={"name": "x", "amount": "many"}),
        422,
        "validation_error",
    )
    assert body["errors"][0]["loc"] == ["body", "amount"]  # type: ignore[index]


@pytest.mark.usefixtures("routes")
async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/test/things", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")


@pytest.mark.usefixtures("routes")
async def test_domain_error_speaks_the_requested_language(client: httpx.AsyncClient) -> None:
    english = assert_problem(await client.get("/test/out"), 409, "out_of_things")
    assert (english["title"], english["detail"], english["remaining"]) == (
        "Out of things",
        "None left.",
        0,
    )
    chinese = assert_problem(
        await client.get("/test/out", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}),
        409,
        "out_of_things",
    )
    assert (chinese["title"], chinese["detail"]) == ("没有了", "一个也没有了。")


@pytest.mark.usefixtures("routes")
async def test_unexpected_error_is_a_500_problem_without_internals(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/test/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret internals" not in response.text
    assert body["request_id"] in str(body["detail"])
    assert any("secret internals" in str(r.exc_info) for r in caplog.records if r.exc_info)


@pytest.mark.usefixtures("routes")
async def test_declared_oversized_body_is_refused_with_413(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    limit = app.state.settings.max_body_bytes
    response = await client.post(
        "/test/things", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


@pytest.mark.usefixtures("routes")
async def test_streamed_oversized_body_is_refused_with_413(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    limit = app.state.settings.max_body_bytes

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000

    response = await client.post(
        "/test/things", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_well_formed_incoming_request_id_is_kept(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "lb-1234567890"})
    assert kept.headers["x-request-id"] == "lb-1234567890"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
    assert replaced.headers["x-request-id"] != "bad id\twith junk"
