"""The ledger's exceptions: each has a stable machine ``code`` and English/Chinese titles.

Two families:

* :class:`Refusal` — a business outcome decided from the ledger's state (insufficient balance,
  an expired or already resolved hold, ...). The posting functions do not raise these: they
  return an :class:`~ledger.types.Outcome` whose ``refusal`` is one, and record it under the
  request's client id so that a retry gets the same answer. ``Outcome.unwrap()`` raises it.
* Everything else is raised at once and recorded nowhere: a malformed request
  (:class:`InvalidRequest`), something that does not exist (:class:`AccountNotFound`,
  :class:`TransactionNotFound`), a client id reused for different content
  (:class:`IdempotencyConflict`). The call undoes what it wrote before raising one of these.
"""

from __future__ import annotations

from typing import ClassVar


class LedgerError(Exception):
    """Base class of every ledger exception."""

    code: ClassVar[str] = "ledger_error"
    title: ClassVar[str] = "Ledger error"
    title_zh: ClassVar[str] = "账本错误"


class InvalidRequest(LedgerError):
    """The request is malformed: a non-positive amount, mixed currencies, a hold that is not one."""

    code = "invalid_ledger_request"
    title = "Invalid ledger request"
    title_zh = "账本请求无效"


class AccountNotFound(LedgerError):
    """No account has this code or id."""

    code = "account_not_found"
    title = "Account not found"
    title_zh = "账户不存在"


class AccountConflict(LedgerError):
    """An account with this code exists with another currency, limit or hot flag."""

    code = "account_conflict"
    title = "Account exists with other attributes"
    title_zh = "账户已存在且属性不同"


class TransactionNotFound(LedgerError):
    """No journal transaction has this id."""

    code = "transaction_not_found"
    title = "Ledger transaction not found"
    title_zh = "账本交易不存在"


class IdempotencyConflict(LedgerError):
    """The client id was used before for a request with different content."""

    code = "idempotency_conflict"
    title = "Client id reused with different content"
    title_zh = "幂等标识已用于不同的请求"


class IntegrityBreach(LedgerError):
    """Stored ledger data no longer matches its own hash: someone changed it behind the ledger."""

    code = "ledger_integrity_breach"
    title = "Ledger integrity breach"
    title_zh = "账本数据完整性受损"


class Refusal(LedgerError):
    """A request the ledger refused for a business reason; remembered under its client id."""

    code = "ledger_refusal"
    title = "Ledger refused the request"
    title_zh = "账本拒绝了该请求"


class InsufficientBalance(Refusal):
    """The debit would take an account limited to its credits below zero available."""

    code = "insufficient_balance"
    title = "Insufficient balance"
    title_zh = "余额不足"


class CreditLimitExceeded(Refusal):
    """The credit would take an account limited to its debits over that limit."""

    code = "credit_limit_exceeded"
    title = "Credit limit exceeded"
    title_zh = "超出贷方限额"


class HoldExpired(Refusal):
    """The hold's timeout has passed (by the database clock); it can only expire now."""

    code = "hold_expired"
    title = "Hold expired"
    title_zh = "预授权已过期"


class HoldAlreadyResolved(Refusal):
    """The hold was already captured, voided or expired."""

    code = "hold_already_resolved"
    title = "Hold already resolved"
    title_zh = "预授权已处理"


class AmountExceedsHold(Refusal):
    """A capture asked for more than the hold reserved."""

    code = "amount_exceeds_hold"
    title = "Amount exceeds the hold"
    title_zh = "金额超过预授权金额"


class AlreadyReversed(Refusal):
    """The transaction was reversed before."""

    code = "already_reversed"
    title = "Transaction already reversed"
    title_zh = "交易已冲正"


class NothingToSweep(Refusal):
    """A sweep found no available balance to move."""

    code = "nothing_to_sweep"
    title = "Nothing to sweep"
    title_zh = "没有可划转的余额"


REFUSALS: dict[str, type[Refusal]] = {
    cls.code: cls
    for cls in (
        InsufficientBalance,
        CreditLimitExceeded,
        HoldExpired,
        HoldAlreadyResolved,
        AmountExceedsHold,
        AlreadyReversed,
        NothingToSweep,
    )
}


def refusal_from_record(code: str, detail: str | None) -> Refusal:
    """Rebuild the refusal stored on a refused transaction."""
    return REFUSALS.get(code, Refusal)(detail or code)
