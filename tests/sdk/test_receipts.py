"""Receipts: verified against the service's JWKS, fetched once; anything else is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from jose import jws

import ledger
from ledger import Transfer
from providers.sdk import AsyncVoucherClient, ReceiptInvalid, keys_by_id, verify_with_keys
from tests.ledger.factories import commit, create_programme, new_client_id
from tests.sdk.faults import Faults
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing

JWKS = "/.well-known/jwks.json"


async def make_receipt(database: Database, keyring: KeyRing, amount: int = 1234) -> tuple[str, str]:
    """A receipt the service signed for a fresh ledger transfer, and the transaction id."""
    p = await create_programme(database)
    outcome = await commit(
        database,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.treasury, p.voucher, amount)], reference="sdk-test"
        ),
    )
    async with database.unit_of_work(readonly=True) as session:
        token = await ledger.receipt(session, keyring, outcome.transaction.id)
    return token, str(outcome.transaction.id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_receipt_verifies_and_the_key_set_is_fetched_once(
    app: FastAPI, database: Database, sdk: AsyncVoucherClient, faults: Faults
) -> None:
    first, transaction_id = await make_receipt(database, app.state.keyring)
    second, _ = await make_receipt(database, app.state.keyring, amount=99)
    receipt = await sdk.verify_receipt(first)
    assert str(receipt.transaction_id) == transaction_id
    assert receipt.key_id == app.state.keyring.active.kid
    assert [leg["amount"] for leg in receipt.legs] == [1234, 1234]
    assert receipt.transaction["reference"] == "sdk-test"
    assert [leg["amount"] for leg in (await sdk.verify_receipt(second)).legs] == [99, 99]
    assert faults.paths() == [JWKS]  # no token needed, and cached for the second receipt


async def test_a_tampered_receipt_is_refused(
    app: FastAPI, database: Database, sdk: AsyncVoucherClient
) -> None:
    token, _ = await make_receipt(database, app.state.keyring)
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["transaction"]["legs"][0]["amount"] = 999_999
    forged = ".".join([header, _b64(json.dumps(body).encode()), signature])
    with pytest.raises(ReceiptInvalid, match="does not verify"):
        await sdk.verify_receipt(forged)
    await sdk.verify_receipt(token)  # the genuine one still does


async def test_the_algorithm_is_pinned(
    app: FastAPI, database: Database, sdk: AsyncVoucherClient
) -> None:
    token, _ = await make_receipt(database, app.state.keyring)
    jwk = app.state.keyring.jwks()["keys"][0]
    payload = jws.get_unverified_claims(token)
    none = ".".join(
        [_b64(json.dumps({"alg": "none", "kid": jwk["kid"]}).encode()), _b64(payload), ""]
    )
    hmac = jws.sign(payload, json.dumps(jwk), headers={"kid": jwk["kid"]}, algorithm="HS256")
    for forged in (none, hmac):
        with pytest.raises(ReceiptInvalid, match="ES256"):
            await sdk.verify_receipt(forged)


async def test_an_unknown_key_refetches_the_set_but_not_too_often(
    app: FastAPI, database: Database, sdk: AsyncVoucherClient, faults: Faults, tmp_path: Path
) -> None:
    stranger = KeyRing(tmp_path / "stranger")
    stranger.ensure()
    genuine, _ = await make_receipt(database, app.state.keyring)
    foreign, _ = await make_receipt(database, stranger)
    await sdk.verify_receipt(genuine)
    sdk.jwks.fetched_at = -1000.0  # pretend the cache is old: one refetch is allowed
    with pytest.raises(ReceiptInvalid, match="no published key"):
        await sdk.verify_receipt(foreign)
    with pytest.raises(ReceiptInvalid, match="no published key"):
        await sdk.verify_receipt(foreign)
    assert faults.paths() == [JWKS, JWKS]


async def test_a_rotated_service_key_is_picked_up(
    app: FastAPI, database: Database, sdk: AsyncVoucherClient, faults: Faults
) -> None:
    old, _ = await make_receipt(database, app.state.keyring)
    await sdk.verify_receipt(old)
    app.state.keyring.rotate()
    new, _ = await make_receipt(database, app.state.keyring)
    sdk.jwks.fetched_at = -1000.0
    assert (await sdk.verify_receipt(new)).key_id == app.state.keyring.active.kid
    await sdk.verify_receipt(old)  # the previous key is still published
    assert faults.paths() == [JWKS, JWKS]


async def test_offline_verification_with_a_saved_key_set(
    app: FastAPI, database: Database, sdk: AsyncVoucherClient
) -> None:
    token, transaction_id = await make_receipt(database, app.state.keyring)
    saved = (await sdk.http.get(JWKS)).json()
    assert str(verify_with_keys(token, keys_by_id(saved)).transaction_id) == transaction_id
    with pytest.raises(ReceiptInvalid):
        verify_with_keys(token, {})
