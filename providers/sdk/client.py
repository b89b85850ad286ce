"""``VoucherClient`` (blocking) and ``AsyncVoucherClient`` (asyncio): the same calls, the same
behaviour; each is a thin driver of the flows in ``operations`` (see ``flow``)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from providers.sdk.auth import TOKEN_PATH, Credentials, TokenCache
from providers.sdk.flow import Flow, drive, drive_async
from providers.sdk.models import (
    CallbackAccepted,
    Page,
    ProviderIdentity,
    Receipt,
    Redemption,
    RefundResult,
    Usage,
    Voucher,
)
from providers.sdk.operations import Operations
from providers.sdk.receipts import JwksCache
from providers.sdk.retry import RetryPolicy

T = TypeVar("T")
USER_AGENT = "voucher-provider-sdk/1.0"


class _Common:
    """Configuration and state both clients share: credentials, token, key set, retry policy."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        scope: str | None = None,
        retry: RetryPolicy | None = None,
        token_audience: str | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.tokens = TokenCache(
            credentials,
            audience=token_audience or self.base_url + TOKEN_PATH,
            scope=scope,
            refresh_margin=refresh_margin,
            clock=clock,
        )
        self.jwks = JwksCache(clock=clock)
        self.ops = Operations(self.retry, credentials)

    def _http_options(self, timeout: float) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "timeout": timeout,
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
        }


class VoucherClient(_Common):
    """The provider API over blocking HTTP; safe to share between threads.

    ``VoucherClient(base_url, ClientSecret(client_id, secret))`` or with
    ``PrivateKeyJwt(client_id, private_key_pem, key_id)``. Pass ``transport`` (or a ready
    ``http`` client) to change how requests travel; use as a context manager or ``close()``."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        super().__init__(base_url, credentials, **options)
        self._sleep = sleep
        self.http = http or httpx.Client(transport=transport, **self._http_options(timeout))
        self._token_lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def run(self, flow: Flow[T]) -> T:
        """Drive any flow of ``self.ops`` (for calls this class does not wrap)."""
        return drive(flow, self.http, self._token, self._sleep)

    def _token(self, rejected: str | None) -> str:
        with self._token_lock:
            usable = self.tokens.usable(rejected)
            if usable is not None:
                return usable
            return self.run(self.tokens.fetch(self.retry))

    def me(self) -> ProviderIdentity:
        """Who these credentials belong to."""
        return self.run(self.ops.me())

    def get_voucher(self, code: str) -> Voucher:
        """A voucher this provider may redeem; ``NotFound`` otherwise."""
        return self.run(self.ops.get_voucher(code))

    def redeem(
        self,
        voucher_code: str,
        order_id: str,
        bill_amount: int,
        usage: Usage,
        *,
        capture: bool = True,
        allow_partial: bool = False,
        currency: str = "CNY",
        idempotency_key: str | None = None,
    ) -> Redemption:
        """Apply the voucher to a bill: captured at once, or a hold when ``capture`` is false."""
        flow = self.ops.redeem(
            voucher_code,
            order_id,
            bill_amount,
            usage,
            capture=capture,
            allow_partial=allow_partial,
            currency=currency,
            idempotency_key=idempotency_key,
        )
        return self.run(flow)

    def capture(
        self,
        redemption_id: uuid.UUID | str,
        amount: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Redemption:
        """Capture a hold, all of it or ``amount`` (the rest is released)."""
        return self.run(self.ops.capture(redemption_id, amount, idempotency_key))

    def void(
        self, redemption_id: uuid.UUID | str, *, idempotency_key: str | None = None
    ) -> Redemption:
        """Release a hold (a cancelled job)."""
        return self.run(self.ops.void(redemption_id, idempotency_key))

    def refund(
        self,
        redemption_id: uuid.UUID | str,
        amount: int,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RefundResult:
        """Give back part or all of a captured redemption to the voucher (several partial
        refunds up to the captured amount)."""
        return self.run(self.ops.refund(redemption_id, amount, reason, idempotency_key))

    def get_redemption(self, redemption_id: uuid.UUID | str) -> Redemption:
        return self.run(self.ops.get_redemption(redemption_id))

    def list_redemptions(
        self, *, limit: int | None = None, cursor: str | None = None, **filters: Any
    ) -> Page[Redemption]:
        """One page of this provider's redemptions, newest first."""
        return self.run(self.ops.list_redemptions(limit, cursor, filters))

    def iter_redemptions(self, **filters: Any) -> Iterator[Redemption]:
        """Every redemption, page after page."""
        cursor: str | None = None
        while True:
            page = self.list_redemptions(cursor=cursor, **filters)
            yield from page.items
            if not (cursor := page.next_cursor):
                return

    def send_callback(
        self, callback_type: str, data: Mapping[str, Any], *, callback_id: str | None = None
    ) -> CallbackAccepted:
        """Tell the service something (``POST /v1/provider/callbacks``), signed with the key of
        a ``PrivateKeyJwt`` client; ``callback_id`` makes it idempotent (default: a new UUID)."""
        return self.run(self.ops.send_callback(callback_type, data, callback_id))

    def verify_receipt(self, receipt: str) -> Receipt:
        """The ledger transaction a receipt vouches for; ``ReceiptInvalid`` if it does not
        verify against the service's published keys."""
        return self.run(self.jwks.verify(receipt, self.retry))


class AsyncVoucherClient(_Common):
    """The provider API over asyncio; the same calls as ``VoucherClient``, awaited. One
    instance can serve many concurrent tasks (one token fetch at a time)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Any,
    ) -> None:
        super().__init__(base_url, credentials, **options)
        self._sleep = sleep
        self.http = http or httpx.AsyncClient(transport=transport, **self._http_options(timeout))
        self._token_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def run(self, flow: Flow[T]) -> T:
        return await drive_async(flow, self.http, self._token, self._sleep)

    async def _token(self, rejected: str | None) -> str:
        async with self._token_lock:
            usable = self.tokens.usable(rejected)
            if usable is not None:
                return usable
            return await self.run(self.tokens.fetch(self.retry))

    async def me(self) -> ProviderIdentity:
        return await self.run(self.ops.me())

    async def get_voucher(self, code: str) -> Voucher:
        return await self.run(self.ops.get_voucher(code))

    async def redeem(
        self,
        voucher_code: str,
        order_id: str,
        bill_amount: int,
        usage: Usage,
        *,
        capture: bool = True,
        allow_partial: bool = False,
        currency: str = "CNY",
        idempotency_key: str | None = None,
    ) -> Redemption:
        flow = self.ops.redeem(
            voucher_code,
            order_id,
            bill_amount,
            usage,
            capture=capture,
            allow_partial=allow_partial,
            currency=currency,
            idempotency_key=idempotency_key,
        )
        return await self.run(flow)

    async def capture(
        self,
        redemption_id: uuid.UUID | str,
        amount: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Redemption:
        return await self.run(self.ops.capture(redemption_id, amount, idempotency_key))

    async def void(
        self, redemption_id: uuid.UUID | str, *, idempotency_key: str | None = None
    ) -> Redemption:
        return await self.run(self.ops.void(redemption_id, idempotency_key))

    async def refund(
        self,
        redemption_id: uuid.UUID | str,
        amount: int,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RefundResult:
        return await self.run(self.ops.refund(redemption_id, amount, reason, idempotency_key))

    async def get_redemption(self, redemption_id: uuid.UUID | str) -> Redemption:
        return await self.run(self.ops.get_redemption(redemption_id))

    async def list_redemptions(
        self, *, limit: int | None = None, cursor: str | None = None, **filters: Any
    ) -> Page[Redemption]:
        return await self.run(self.ops.list_redemptions(limit, cursor, filters))

    async def iter_redemptions(self, **filters: Any) -> AsyncIterator[Redemption]:
        cursor: str | None = None
        while True:
            page = await self.list_redemptions(cursor=cursor, **filters)
            for item in page.items:
                yield item
            if not (cursor := page.next_cursor):
                return

    async def send_callback(
        self, callback_type: str, data: Mapping[str, Any], *, callback_id: str | None = None
    ) -> CallbackAccepted:
        return await self.run(self.ops.send_callback(callback_type, data, callback_id))

    async def verify_receipt(self, receipt: str) -> Receipt:
        return await self.run(self.jwks.verify(receipt, self.retry))
