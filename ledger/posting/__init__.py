"""Posting: every function that writes to the ledger.

How to call them
================

Each function takes the caller's ``AsyncSession`` and **never commits**: the caller's unit of
work commits the ledger change together with its own (a voucher is issued in the same database
transaction that moves the approved amount). Each takes a ``client_id`` that identifies the
request for ever (``redemption:<id>:hold``, ``voucher:<id>:issue``, ...).

Each returns an :class:`~ledger.types.Outcome`:

* ``outcome.ok`` — the transaction was written (or had been, if ``outcome.replayed``).
* otherwise ``outcome.refusal`` is a :class:`~ledger.errors.Refusal` (insufficient balance,
  hold expired, ...). Nothing moved, but the refusal **is written to the session** under the
  client id. Commit the session to remember it, so a retry with the same client id returns the
  same refusal even if the balance has changed since; then report the error
  (``outcome.unwrap()`` raises it). If the unit of work is rolled back instead (for example
  because the refusal was raised through it), nothing is remembered and a retry is evaluated
  afresh: safe, since nothing moved, but no longer "the same outcome".

  The simplest way to get this right is :func:`ledger.retry.run_transaction`, which runs a
  function in its own unit of work with retries and commits refusals before returning them.

* Malformed requests, unknown accounts or holds, and a client id reused for other content
  raise at once (:class:`~ledger.errors.InvalidRequest`, ...,
  :class:`~ledger.errors.IdempotencyConflict`) and are not remembered. The call has then undone
  whatever it wrote, so the session is as it was; a database error, on the other hand, leaves
  the transaction unusable and it must be rolled back (a unit of work does).
"""

from ledger.posting.holds import capture, expire_due_holds, expiry_client_id, void
from ledger.posting.reversals import reverse
from ledger.posting.transfers import hold, sweep, transfer

__all__ = [
    "capture",
    "expire_due_holds",
    "expiry_client_id",
    "hold",
    "reverse",
    "sweep",
    "transfer",
    "void",
]
