"""The blocking client over real HTTP: a second instance of the app served by uvicorn."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from fastapi import FastAPI

from providers.sdk import ClientSecret, NotFound, PrivateKeyJwt, VoucherClient
from tests.sdk.conftest import FAST_RETRIES
from tests.sdk.faults import Faults, FlakyTransport
from tests.sdk.test_receipts import make_receipt
from voucher_service.db import Database
from voucher_service.settings import Settings


def blocking(
    url: str, credentials: ClientSecret | PrivateKeyJwt, faults: Faults, settings: Settings
) -> VoucherClient:
    return VoucherClient(
        url,
        credentials,
        transport=FlakyTransport(httpx.HTTPTransport(), faults),
        retry=FAST_RETRIES,
        # The assertion's audience is the service's public URL, not the test port.
        token_audience=settings.base_url + "/v1/oauth/token",
    )


async def test_calls_tokens_and_retries_over_a_socket(
    live_url: str, settings: Settings, secret_credentials: ClientSecret
) -> None:
    faults = Faults(count=2, mode="after", path="/v1/provider/me")
    with blocking(live_url, secret_credentials, faults, settings) as sdk:
        assert sdk.me().client_id == secret_credentials.client_id
        assert sdk.me().client_id == secret_credentials.client_id
        with pytest.raises(NotFound):
            sdk.run(sdk.ops.call("GET", "/v1/provider/nothing-here", dict))
    assert faults.paths().count("/v1/oauth/token") == 1
    assert faults.paths().count("/v1/provider/me") == 4


async def test_signed_callbacks_and_receipts(
    app: FastAPI,
    database: Database,
    live_url: str,
    settings: Settings,
    key_credentials: PrivateKeyJwt,
) -> None:
    token, transaction_id = await make_receipt(database, app.state.keyring)
    faults = Faults()
    with blocking(live_url, key_credentials, faults, settings) as sdk:
        answer = sdk.send_callback("callback.test", {"message": "hello"}, callback_id="t-1")
        receipt = sdk.verify_receipt(token)
    assert answer.outcome["verified"] is True and answer.outcome["key_id"] == "sdk-key-1"
    assert not answer.replayed
    assert str(receipt.transaction_id) == transaction_id


def _modules_loaded_by_importing_the_sdk() -> set[str]:
    code = "import sys, providers.sdk; print(' '.join(sorted(sys.modules)))"
    run = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(run.stdout.split())


def test_the_sdk_imports_nothing_of_the_server() -> None:
    """Providers install the SDK alone: httpx, python-jose and the standard library."""
    loaded = _modules_loaded_by_importing_the_sdk()
    roots = {name.split(".")[0] for name in loaded}
    assert {"httpx", "jose"} <= roots
    server = {"voucher_service", "ledger", "sqlalchemy", "sqlmodel", "fastapi", "pydantic"}
    assert not roots & server
    siblings = {
        n for n in loaded if n.startswith("providers.") and not n.startswith("providers.sdk")
    }
    assert not siblings
