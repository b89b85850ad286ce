"""Checking what callers ask for, and turning transfers into legs and fingerprints."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from ledger.errors import InvalidRequest
from ledger.hashing import canonical_json
from ledger.types import Account, JsonObject, Leg, Transfer

MAX_AMOUNT = 2**53 - 1  # exact as a JSON number everywhere
MAX_TRANSFERS = 64
MAX_CLIENT_ID_LENGTH = 200
MAX_REFERENCE_LENGTH = 200
MAX_DETAILS_BYTES = 4096


def check_client_id(client_id: str) -> None:
    """A client id is 1 to 200 characters."""
    if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise InvalidRequest(f"client id must be 1 to {MAX_CLIENT_ID_LENGTH} characters")


def check_amount(amount: int) -> None:
    """An amount is a positive integer number of fen, exact in JSON."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidRequest(f"amount must be an integer number of fen, not {amount!r}")
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidRequest(f"amount must be between 1 and {MAX_AMOUNT} fen, not {amount}")


def check_annotations(reference: str | None, details: JsonObject | None) -> None:
    """A reference is a short string; details a small, finite JSON object."""
    if reference is not None and not 0 < len(reference) <= MAX_REFERENCE_LENGTH:
        raise InvalidRequest(f"reference must be 1 to {MAX_REFERENCE_LENGTH} characters")
    if details is None:
        return
    if not isinstance(details, dict):
        raise InvalidRequest("details must be a JSON object")
    try:
        size = len(canonical_json(details))
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"details are not JSON: {exc}") from exc
    if size > MAX_DETAILS_BYTES:
        raise InvalidRequest(f"details take {size} bytes; at most {MAX_DETAILS_BYTES}")


def currency_of(accounts: Iterable[Account]) -> str:
    """The one currency of ``accounts``; InvalidRequest if they mix currencies."""
    currencies = {account.currency for account in accounts}
    if len(currencies) != 1:
        raise InvalidRequest(f"one transaction moves one currency, not {sorted(currencies)}")
    return currencies.pop()


def check_transfers(transfers: Sequence[Transfer]) -> str:
    """Validate transfers; returns their currency."""
    if not 0 < len(transfers) <= MAX_TRANSFERS:
        raise InvalidRequest(f"a transaction has 1 to {MAX_TRANSFERS} transfers")
    for transfer in transfers:
        check_amount(transfer.amount)
        if transfer.debit.id == transfer.credit.id:
            raise InvalidRequest(f"transfer from {transfer.debit.code} to itself")
    return currency_of(account for t in transfers for account in (t.debit, t.credit))


def legs_for(transfers: Iterable[Transfer], phase: str, start: int = 0) -> list[Leg]:
    """Two legs per transfer, debit first, numbered from ``start``."""
    legs: list[Leg] = []
    for transfer in transfers:
        position = start + len(legs)
        legs.append(Leg(position, transfer.debit.id, "debit", phase, transfer.amount))
        legs.append(Leg(position + 1, transfer.credit.id, "credit", phase, transfer.amount))
    return legs


def accounts_of(transfers: Iterable[Transfer]) -> dict[uuid.UUID, Account]:
    """Every account the transfers touch, by id."""
    return {a.id: a for transfer in transfers for a in (transfer.debit, transfer.credit)}


def transfers_content(transfers: Iterable[Transfer]) -> list[list[object]]:
    """Transfers as the lists a fingerprint covers."""
    return [[str(t.debit.id), str(t.credit.id), t.amount] for t in transfers]
