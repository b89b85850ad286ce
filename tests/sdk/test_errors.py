"""Problem responses become typed errors: by code, else by status; nothing is lost."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from providers.sdk import (
    AsyncVoucherClient,
    BadRequest,
    InsufficientBalance,
    PrivateKeyJwt,
    ProblemError,
    RedemptionRefused,
    ServerError,
    VoucherNotRedeemable,
)
from providers.sdk.errors import error_class
from providers.sdk.flow import problem_of
from providers.sdk.retry import retry_after_seconds
from tests.sdk.conftest import async_client
from tests.sdk.faults import Faults


def response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "https://x/"), **kwargs)  # type: ignore[arg-type]


def test_the_code_picks_the_class_and_extensions_are_kept() -> None:
    problem = {
        "type": "https://x/problems/insufficient_balance",
        "title": "Insufficient balance",
        "status": 422,
        "code": "insufficient_balance",
        "detail": "The voucher covers 120.00 of 300.00.",
        "available_amount": 12000,
        "request_id": "req-1",
    }
    error = problem_of(response(422, json=problem))
    assert type(error) is InsufficientBalance and isinstance(error, RedemptionRefused)
    assert error.extensions == {"available_amount": 12000, "request_id": "req-1"}
    assert (error.status, error.problem_code, error.request_id) == (
        422,
        "insufficient_balance",
        "req-1",
    )
    assert "covers 120.00" in str(error)
    assert error_class("voucher_not_redeemable") is VoucherNotRedeemable


def test_an_unknown_code_falls_back_on_the_status() -> None:
    error = problem_of(response(422, json={"code": "something_new", "title": "New"}))
    assert type(error) is BadRequest and error.problem_code == "something_new"
    assert type(problem_of(response(418, json={"code": "teapot"}))) is ProblemError


def test_a_body_that_is_not_a_problem_still_raises_by_status() -> None:
    error = problem_of(response(502, text="<html>bad gateway</html>"))
    assert type(error) is ServerError
    assert error.problem_code == "http_502" and "bad gateway" in (error.detail or "")


def test_retry_after_in_both_forms() -> None:
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


async def test_a_refused_callback_is_a_typed_error_from_the_real_app(
    app: FastAPI, key_credentials: PrivateKeyJwt, faults: Faults
) -> None:
    async with async_client(app, key_credentials, faults) as sdk:
        with pytest.raises(ProblemError) as refused:
            await sdk.send_callback("no.such_type", {})
    assert refused.value.problem_code == "callback_type_unknown"
    assert refused.value.status == 422 and isinstance(refused.value, BadRequest)
    assert refused.value.request_id


async def test_callbacks_need_a_key_client(sdk: AsyncVoucherClient) -> None:
    with pytest.raises(TypeError, match="private_key_jwt"):
        await sdk.send_callback("callback.test", {})
