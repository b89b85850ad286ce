"""Ledger exceptions become problem responses with their own stable code, in both languages."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

import ledger
from voucher_service.accounting.problems import STATUSES


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ledger.InsufficientBalance("voucher:1 has too little"), 422),
        (ledger.HoldExpired("hold 1 has expired"), 409),
        (ledger.HoldAlreadyResolved("hold 1 was already resolved"), 409),
        (ledger.IdempotencyConflict("client id x reused"), 409),
        (ledger.AccountNotFound("no account x"), 404),
        (ledger.InvalidRequest("amount must be positive"), 422),
        (ledger.IntegrityBreach("transaction 1 changed"), 500),
    ],
)
async def test_ledger_errors_are_problems(
    app: FastAPI, client: httpx.AsyncClient, error: ledger.LedgerError, status: int
) -> None:
    async def fail() -> None:
        raise error

    app.add_api_route("/test/ledger-error", fail)
    response = await client.get("/test/ledger-error")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == error.code and body["title"] == error.title
    assert body["detail"] == str(error)
    chinese = await client.get("/test/ledger-error", headers={"Accept-Language": "zh-CN"})
    assert chinese.json()["title"] == error.title_zh


def test_every_ledger_exception_has_a_status() -> None:
    def subclasses(cls: type[ledger.LedgerError]) -> set[type[ledger.LedgerError]]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(sub) for sub in found))

    assert subclasses(ledger.LedgerError) | {ledger.LedgerError} == set(STATUSES)
    codes = [cls.code for cls in STATUSES]
    assert len(codes) == len(set(codes))
