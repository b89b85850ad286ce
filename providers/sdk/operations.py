"""The provider API calls as flows: each builds its request and parses its answer, once for both
clients. A mutating call gets one ``Idempotency-Key`` (yours, or a new UUID) for all its
attempts, so a retry after a lost response is answered from the service's record instead of
being performed twice."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from providers.sdk.auth import PrivateKeyJwt
from providers.sdk.callbacks import sign_callback
from providers.sdk.flow import Flow, RequestSpec, authorised, expect, new_idempotency_key
from providers.sdk.models import (
    CallbackAccepted,
    Page,
    ProviderIdentity,
    Redemption,
    RefundResult,
    Usage,
    Voucher,
)
from providers.sdk.retry import RetryPolicy

T = TypeVar("T")
REDEMPTIONS = "/v1/provider/redemptions"


def _segment(value: str | uuid.UUID) -> str:
    return quote(str(value), safe="")


class Operations:
    """Flows for every call of the provider API (see ``VoucherClient`` for the documentation)."""

    def __init__(self, policy: RetryPolicy, credentials: object) -> None:
        self.policy = policy
        self.credentials = credentials

    def call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Flow[T]:
        """Any authorised call; POST, PUT, PATCH and DELETE carry an ``Idempotency-Key``."""
        fixed: dict[str, str] = {}
        if method != "GET":
            fixed["Idempotency-Key"] = idempotency_key or new_idempotency_key()

        def build(auth: Mapping[str, str]) -> RequestSpec:
            return RequestSpec(method, path, params=params, json=body, headers=fixed | dict(auth))

        response = yield from authorised(build, self.policy)
        return expect(response, parse)

    def me(self) -> Flow[ProviderIdentity]:
        return self.call("GET", "/v1/provider/me", ProviderIdentity.from_json)

    def get_voucher(self, code: str) -> Flow[Voucher]:
        return self.call("GET", f"/v1/provider/vouchers/{_segment(code)}", Voucher.from_json)

    def redeem(
        self,
        voucher_code: str,
        order_id: str,
        bill_amount: int,
        usage: Usage,
        *,
        capture: bool,
        allow_partial: bool,
        currency: str,
        idempotency_key: str | None,
    ) -> Flow[Redemption]:
        body = {
            "voucher_code": voucher_code,
            "order_id": order_id,
            "bill_amount": bill_amount,
            "currency": currency,
            "usage": usage.to_json(),
            "capture": capture,
            "allow_partial": allow_partial,
        }
        return self.call(
            "POST", REDEMPTIONS, Redemption.from_json, body=body, idempotency_key=idempotency_key
        )

    def capture(
        self, redemption_id: uuid.UUID | str, amount: int | None, idempotency_key: str | None
    ) -> Flow[Redemption]:
        body = {} if amount is None else {"amount": amount}
        path = f"{REDEMPTIONS}/{_segment(redemption_id)}/capture"
        return self.call(
            "POST", path, Redemption.from_json, body=body, idempotency_key=idempotency_key
        )

    def void(self, redemption_id: uuid.UUID | str, idempotency_key: str | None) -> Flow[Redemption]:
        path = f"{REDEMPTIONS}/{_segment(redemption_id)}/void"
        return self.call(
            "POST", path, Redemption.from_json, body={}, idempotency_key=idempotency_key
        )

    def refund(
        self,
        redemption_id: uuid.UUID | str,
        amount: int,
        reason: str | None,
        idempotency_key: str | None,
    ) -> Flow[RefundResult]:
        path = f"{REDEMPTIONS}/{_segment(redemption_id)}/refunds"
        body = {"amount": amount, "reason": reason}
        return self.call(
            "POST", path, RefundResult.from_json, body=body, idempotency_key=idempotency_key
        )

    def get_redemption(self, redemption_id: uuid.UUID | str) -> Flow[Redemption]:
        path = f"{REDEMPTIONS}/{_segment(redemption_id)}"
        return self.call("GET", path, Redemption.from_json)

    def list_redemptions(
        self, limit: int | None, cursor: str | None, filters: Mapping[str, Any]
    ) -> Flow[Page[Redemption]]:
        params = {"limit": limit, "cursor": cursor, **filters}
        params = {k: v for k, v in params.items() if v is not None}
        return self.call(
            "GET", REDEMPTIONS, lambda data: Page.parse(data, Redemption.from_json), params=params
        )

    def send_callback(
        self, callback_type: str, data: Mapping[str, Any], callback_id: str | None
    ) -> Flow[CallbackAccepted]:
        """POST a signed callback; every attempt signs again over a fresh timestamp."""
        credentials = self.credentials
        if not isinstance(credentials, PrivateKeyJwt):
            raise TypeError("callbacks are signed with a private_key_jwt client's key")
        callback_id = callback_id or new_idempotency_key()

        def build(auth: Mapping[str, str]) -> RequestSpec:
            body = json.dumps(
                {
                    "id": callback_id,
                    "type": callback_type,
                    "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "data": dict(data),
                },
                separators=(",", ":"),
            ).encode()
            headers = {
                "JWS-Signature": sign_callback(body, credentials),
                "Content-Type": "application/json",
            }
            return RequestSpec(
                "POST", "/v1/provider/callbacks", content=body, headers=headers | dict(auth)
            )

        response = yield from authorised(build, self.policy)
        return expect(response, CallbackAccepted.from_json)
