"""A model of the provider API run beside the real service, step by step (hypothesis stateful).

The model is a few dictionaries of integers: each voucher's available balance, each open hold,
each capture and what was refunded of it, and every request already answered with its key. A
random sequence of redemptions (held or captured, partial or not), captures (whole or part),
voids, refunds, retries with the same ``Idempotency-Key`` and keys reused for another request is
sent to the real app over HTTP; after every step the service's answers, the vouchers' balances and
the ledger's invariants (balanced trial balance, nothing pending that the model does not hold)
must agree with the model. Runs on PostgreSQL, where concurrency bugs live; the steps themselves
are sequential so that the model stays exact.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

import ledger
from tests.redemptions.factories import Seller, create_seller, redemption_body, voucher_for
from voucher_service.app import create_app
from voucher_service.settings import Settings
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.models import Voucher

T = TypeVar("T")
RATES = (3000, 5000, 10000)
#: Each voucher starts with this many fen (500.00 CNY), so bills of a few hundred yuan run it dry.
START = 50_000
bills = st.integers(min_value=1, max_value=120_000)


@dataclass
class Sent:
    """A request already answered: what a retry with its key must get again."""

    key: str
    path: str
    body: dict[str, Any]
    status: int
    answer: dict[str, Any]


@dataclass
class Model:
    available: dict[str, int] = field(default_factory=dict)  # voucher code -> fen
    rate: dict[str, int] = field(default_factory=dict)
    holds: dict[str, tuple[str, int]] = field(default_factory=dict)  # redemption -> (code, fen)
    captured: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # (code, fen, refunded)
    sent: list[Sent] = field(default_factory=list)

    def held(self, code: str) -> int:
        return sum(amount for owner, amount in self.holds.values() if owner == code)


class ProviderApi(RuleBasedStateMachine):
    """One provider, two vouchers, and the model of what the service must answer."""

    runner: asyncio.Runner
    client: httpx.AsyncClient
    app: Any

    vouchers = Bundle("vouchers")
    holds = Bundle("holds")
    captures = Bundle("captures")

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    @initialize(target=vouchers, rates=st.lists(st.sampled_from(RATES), min_size=2, max_size=2))
    def open_vouchers(self, rates: list[int]) -> Any:
        self.model = Model()
        self.seller, made = self.run(self._arrange(rates))
        self.voucher_of: dict[str, Voucher] = {}
        for voucher in made:
            self.model.available[voucher.code] = START
            self.model.rate[voucher.code] = voucher.rate_bp
            self.voucher_of[voucher.code] = voucher
        return multiple(*(voucher.code for voucher in made))

    async def _arrange(self, rates: list[int]) -> tuple[Seller, list[Voucher]]:
        database = self.app.state.database
        async with database.session() as session:
            seller = await create_seller(self.app, self.client, session)
            made = [await voucher_for(session, seller, amount=START, rate_bp=r) for r in rates]
        return seller, made

    # --- requests ------------------------------------------------------------------------------

    def send(self, path: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        key = key or str(uuid.uuid4())
        response = self.run(self.client.post(path, json=body, headers=self.seller.keyed(key)))
        assert response.status_code < 500, response.text
        self.model.sent.append(Sent(key, path, body, response.status_code, response.json()))
        return response

    @rule(
        target=holds,
        code=vouchers,
        bill=bills,
        allow_partial=st.booleans(),
    )
    def authorise(self, code: str, bill: int, allow_partial: bool) -> Any:
        covered = self._redeem(code, bill, capture=False, allow_partial=allow_partial)
        if covered is None:
            return multiple()
        redemption_id, amount = covered
        self.model.holds[redemption_id] = (code, amount)
        return redemption_id

    @rule(target=captures, code=vouchers, bill=bills, allow_partial=st.booleans())
    def capture_at_once(self, code: str, bill: int, allow_partial: bool) -> Any:
        covered = self._redeem(code, bill, capture=True, allow_partial=allow_partial)
        if covered is None:
            return multiple()
        redemption_id, amount = covered
        self.model.captured[redemption_id] = (code, amount, 0)
        return redemption_id

    def _redeem(
        self, code: str, bill: int, *, capture: bool, allow_partial: bool
    ) -> tuple[str, int] | None:
        body = redemption_body(
            self.voucher_of[code], bill_amount=bill, capture=capture, allow_partial=allow_partial
        )
        response = self.send("/v1/provider/redemptions", body)
        share = bill * self.model.rate[code] // 10_000
        available = self.model.available[code]
        if share == 0:
            assert response.json()["code"] == "nothing_to_cover", response.text
            return None
        covered = share if share <= available else (available if allow_partial else 0)
        if covered == 0:
            assert response.status_code == 422, response.text
            exhausted = available == 0 and self.model.held(code) == 0
            codes = {"insufficient_balance"} | ({"voucher_exhausted"} if exhausted else set())
            assert response.json()["code"] in codes, response.text
            return None
        assert response.status_code == 201, response.text
        answer = response.json()
        assert answer["covered_amount"] == covered
        assert answer["enterprise_payable"] == bill - covered
        assert answer["status"] == ("captured" if capture else "authorized")
        self.model.available[code] = available - covered
        assert answer["voucher_balance"] == self.model.available[code]
        return answer["id"], covered

    @rule(target=captures, redemption=consumes(holds), part=st.floats(0.0, 1.2))
    def capture(self, redemption: str, part: float) -> Any:
        code, held = self.model.holds[redemption]
        amount = max(1, int(held * part))
        response = self.send(f"/v1/provider/redemptions/{redemption}/capture", {"amount": amount})
        if amount > held:
            assert response.json()["code"] == "amount_exceeds_hold", response.text
            return self._capture_all(redemption)
        assert response.status_code == 200, response.text
        del self.model.holds[redemption]
        self.model.available[code] += held - amount
        self.model.captured[redemption] = (code, amount, 0)
        assert response.json()["captured_amount"] == amount
        return redemption

    def _capture_all(self, redemption: str) -> str:
        code, held = self.model.holds.pop(redemption)
        response = self.send(f"/v1/provider/redemptions/{redemption}/capture", {})
        assert response.status_code == 200, response.text
        assert response.json()["captured_amount"] == held
        self.model.captured[redemption] = (code, held, 0)
        return redemption

    @rule(redemption=consumes(holds))
    def void(self, redemption: str) -> None:
        code, held = self.model.holds.pop(redemption)
        response = self.send(f"/v1/provider/redemptions/{redemption}/void", {})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "voided"
        self.model.available[code] += held
        again = self.send(f"/v1/provider/redemptions/{redemption}/capture", {})
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "redemption_voided"

    @rule(redemption=captures, part=st.floats(0.0, 0.8))
    def refund(self, redemption: str, part: float) -> None:
        code, captured, refunded = self.model.captured[redemption]
        amount = max(1, int(captured * part))
        body = {"amount": amount, "reason": "model refund"}
        response = self.send(f"/v1/provider/redemptions/{redemption}/refunds", body)
        if refunded + amount > captured:
            assert response.json()["code"] == "refund_exceeds_captured", response.text
            return
        assert response.status_code in (200, 201), response.text
        answer = response.json()
        assert answer["refund"]["amount"] == amount
        assert answer["redemption"]["refunded_amount"] == refunded + amount
        self.model.captured[redemption] = (code, captured, refunded + amount)
        self.model.available[code] += amount

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """The same key and request again: the first answer, replayed, nothing moved."""
        if not self.model.sent:
            return
        first = data.draw(st.sampled_from(self.model.sent))
        headers = self.seller.keyed(first.key)
        response = self.run(self.client.post(first.path, json=first.body, headers=headers))
        assert response.status_code == first.status, (first, response.text)
        assert response.json() == first.answer
        assert response.headers.get("idempotent-replayed") == "true"

    @rule(data=st.data())
    def reuse_key_for_another_request(self, data: st.DataObject) -> None:
        if not self.model.sent:
            return
        first = data.draw(st.sampled_from(self.model.sent))
        other = {**first.body, "model_marker": uuid.uuid4().hex}
        response = self.run(
            self.client.post(first.path, json=other, headers=self.seller.keyed(first.key))
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "idempotency_key_reused"

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def balances_agree(self) -> None:
        if not hasattr(self, "model"):
            return
        self.run(self._check_balances())

    async def _check_balances(self) -> None:
        async with self.app.state.database.session() as session:
            for code, voucher in self.voucher_of.items():
                balance = await vouchers.balance_of(session, voucher)
                assert balance.available == self.model.available[code], code
                assert balance.on_hold == self.model.held(code), code
            totals = (await ledger.trial_balance(session)).total
            assert totals.debits_posted == totals.credits_posted
            assert totals.debits_pending == totals.credits_pending


@pytest.mark.postgres_only
@pytest.mark.slow
def test_provider_api_agrees_with_its_model(backend: str, settings: Settings) -> None:
    """Random sequences of provider calls; the service and the model never disagree."""
    del backend  # PostgreSQL only (the marker); the fixture gives this test its database.
    with asyncio.Runner() as runner:
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        runner.run(lifespan.__aenter__())
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="https://testserver")
        try:
            machine = type(
                "BoundProviderApi", (ProviderApi,), {"runner": runner, "client": client, "app": app}
            )
            run_state_machine_as_test(
                machine,
                settings=settings_for_ci(),
            )
            runner.run(_verify_ledger(app))
        finally:
            runner.run(client.aclose())
            runner.run(lifespan.__aexit__(None, None, None))


def settings_for_ci() -> hypothesis_settings:
    """A bounded run in CI; ``VOUCHER_MODEL_EXAMPLES=500`` for the long run before a release."""
    return hypothesis_settings(
        max_examples=int(os.environ.get("VOUCHER_MODEL_EXAMPLES", "8")),
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


async def _verify_ledger(app: Any) -> None:
    """Afterwards the ledger's own verification (every balance from its legs) finds no break."""
    async with app.state.database.session() as session:
        report = await ledger.verify(session, app.state.keyring)
    assert report.ok, report.first_break
