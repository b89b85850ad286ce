"""Verifying ledger receipts against the service's JWKS (``/.well-known/jwks.json``).

The algorithm is pinned to ES256 and the key must be an EC P-256 key of the set: a receipt's
header can choose neither (no ``none``, no HMAC with the public key as secret). The key set is
fetched on first use and cached; a receipt signed with a ``kid`` the cache does not know (the
service rotated its key) fetches it again, at most once per ``refetch_interval`` so that junk
receipts cannot make us hammer the service.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from typing import Any

from jose import jws
from jose.exceptions import JOSEError

from providers.sdk.errors import ReceiptInvalid
from providers.sdk.flow import Reply, RequestSpec, Step, attempts, expect
from providers.sdk.models import Receipt, parse_time
from providers.sdk.retry import RetryPolicy

ALGORITHM = "ES256"
RECEIPT_TYPE = "voucher-ledger-receipt"
JWKS_PATH = "/.well-known/jwks.json"


def _usable(jwk: Mapping[str, Any]) -> bool:
    return (
        jwk.get("kty") == "EC"
        and jwk.get("crv") == "P-256"
        and jwk.get("alg", ALGORITHM) == ALGORITHM
        and jwk.get("use", "sig") == "sig"
        and isinstance(jwk.get("kid"), str)
    )


def keys_by_id(jwks: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The ES256 signing keys of a JWK set, by ``kid``."""
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise ReceiptInvalid("the JWKS has no keys")
    return {key["kid"]: dict(key) for key in keys if isinstance(key, dict) and _usable(key)}


def _header(token: str) -> dict[str, Any]:
    try:
        header = jws.get_unverified_header(token)
    except JOSEError as exc:
        raise ReceiptInvalid(f"not a compact JWS: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise ReceiptInvalid(f"receipts are signed with {ALGORITHM}, not {header.get('alg')!r}")
    if not isinstance(header.get("kid"), str):
        raise ReceiptInvalid("the receipt names no key (kid)")
    return dict(header)


def verify_with_keys(token: str, keys: Mapping[str, Mapping[str, Any]]) -> Receipt:
    """The receipt's content if a key of ``keys`` (from ``keys_by_id``) signed it."""
    kid = _header(token)["kid"]
    key = keys.get(kid)
    if key is None:
        raise ReceiptInvalid(f"no published key {kid!r}")
    try:
        payload = jws.verify(token, dict(key), algorithms=[ALGORITHM])
        body = json.loads(payload)
    except (JOSEError, ValueError) as exc:
        raise ReceiptInvalid(f"the signature does not verify: {exc}") from exc
    return _receipt(kid, body)


def _receipt(kid: str, body: Any) -> Receipt:
    if not isinstance(body, dict) or body.get("typ") != RECEIPT_TYPE:
        raise ReceiptInvalid("not a ledger receipt")
    transaction = body.get("transaction")
    try:
        assert isinstance(transaction, dict)  # noqa: S101 - turned into ReceiptInvalid below
        return Receipt(
            key_id=kid,
            transaction_id=uuid.UUID(str(transaction["id"])),
            content_hash=str(transaction["content_hash"]),
            legs=tuple(transaction.get("legs") or ()),
            issued_at=parse_time(body.get("issued_at")),
            transaction=transaction,
            checkpoint=body.get("checkpoint"),
            raw=body,
        )
    except (AssertionError, KeyError, ValueError) as exc:
        raise ReceiptInvalid(f"the receipt's transaction is malformed: {exc!r}") from exc


class JwksCache:
    """The service's signing keys, fetched once and again only for an unknown ``kid``."""

    def __init__(
        self,
        *,
        refetch_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys: dict[str, dict[str, Any]] = {}
        self.fetched_at: float | None = None
        self.refetch_interval = refetch_interval
        self.clock = clock

    def _may_fetch(self) -> bool:
        return self.fetched_at is None or self.clock() - self.fetched_at >= self.refetch_interval

    def verify(self, token: str, policy: RetryPolicy) -> Generator[Step, Reply, Receipt]:
        """A flow: the verified receipt, fetching the key set first if it lacks the ``kid``."""
        kid = _header(token)["kid"]
        if kid not in self.keys and self._may_fetch():
            response = yield from attempts(lambda: RequestSpec("GET", JWKS_PATH), policy)
            self.keys = keys_by_id(expect(response, dict))
            self.fetched_at = self.clock()
        return verify_with_keys(token, self.keys)
