"""Bulk loading for ``bench/scale.py``: programme, vouchers, providers and redemptions written
straight into the tables with COPY, as ledger-consistent rows (every transaction balanced and
hashed as the ledger would, account totals equal to their legs)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg

from ledger.ids import created_at_of
from ledger.posting.journal import compute_hash
from ledger.sqltypes import new_id, utcnow
from ledger.types import Leg, Transaction
from voucher_service.organisations.credit_code import check_character

BATCH = 50_000
COVERED = 1_000  # fen per redemption


@dataclass
class Loaded:
    program_id: uuid.UUID
    providers: list[uuid.UUID]
    vouchers: list[uuid.UUID]
    accounts: dict[str, uuid.UUID] = field(default_factory=dict)
    big_provider_orders: int = 0


def _transaction(client_id: str, legs: list[tuple[uuid.UUID, str, int]], reference: str) -> tuple:
    tid = new_id()
    record = Transaction(
        id=tid,
        client_id=client_id,
        fingerprint=hashlib.sha256(client_id.encode()).hexdigest(),
        kind="transfer",
        status="committed",
        error_code=None,
        error_detail=None,
        currency="CNY",
        related_id=None,
        reference=reference,
        details=None,
        timeout_ms=None,
        created_at=created_at_of(tid),
        content_hash="",
        legs=tuple(
            Leg(i, account, side, "posted", amount)
            for i, (account, side, amount) in enumerate(legs)
        ),
        leg_count=len(legs),
    )
    header = (
        tid,
        client_id,
        record.fingerprint,
        "transfer",
        "committed",
        None,
        None,
        "CNY",
        None,
        reference,
        None,
        None,
        len(legs),
        record.created_at,
        compute_hash(record),
    )
    entries = [
        (tid, leg.position, leg.account_id, leg.side, "posted", leg.amount) for leg in record.legs
    ]
    return header, entries


HEADER = (
    "id",
    "client_id",
    "fingerprint",
    "kind",
    "status",
    "error_code",
    "error_detail",
    "currency",
    "related_id",
    "reference",
    "details",
    "timeout_ms",
    "leg_count",
    "created_at",
    "content_hash",
)
ENTRY = ("transaction_id", "position", "account_id", "side", "phase", "amount")
REDEMPTION = (
    "id",
    "created_at",
    "provider_id",
    "voucher_id",
    "program_id",
    "enterprise_id",
    "order_id",
    "voucher_code",
    "bill_amount",
    "currency",
    "usage",
    "rate_bp",
    "covered_amount",
    "captured_amount",
    "refunded_amount",
    "enterprise_payable_amount",
    "status",
    "authorization_transaction_id",
    "captured_at",
)


async def _copy(conn: asyncpg.Connection, table: str, columns: tuple[str, ...], rows: list) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=list(columns))


async def _organisations(
    conn: asyncpg.Connection, providers: int
) -> tuple[list[uuid.UUID], uuid.UUID]:
    now = utcnow()
    ids = [new_id() for _ in range(providers + 1)]
    rows = [
        (
            oid,
            now,
            "provider" if i < providers else "enterprise",
            f"bench org {i}",
            "active",
            False,
            _credit_code(i),
        )
        for i, oid in enumerate(ids)
    ]
    columns = ("id", "created_at", "kind", "name", "status", "credit_code_legacy", "credit_code")
    await _copy(conn, "organisation", columns, rows)
    return ids[:providers], ids[-1]


async def _program(conn: asyncpg.Connection) -> uuid.UUID:
    pid, today = new_id(), date.today()
    await conn.execute(
        "INSERT INTO program (id, created_at, name, description, kind, mode, fiscal_year, status,"
        " rate_tiers, default_rate_bp, rounding_unit, opens_on, closes_on, validity_days,"
        " allow_holder_providers, review_stages, oversubscription_policy, hold_timeout_seconds)"
        " VALUES ($1, now(), 'bench', '', 'compute', 'point_of_sale', $2, 'open', '[]', 5000,"
        " 'fen', $3, $4, 365, false, '[]', 'fifo_by_contract_date', 900)",
        pid,
        today.year,
        today - timedelta(days=30),
        today + timedelta(days=30),
    )
    return pid


async def _accounts(
    conn: asyncpg.Connection, specs: list[tuple[str, bool, bool]]
) -> dict[str, uuid.UUID]:
    now, ids = utcnow(), {}
    rows = []
    for code, limited, hot in specs:
        ids[code] = new_id()
        rows.append((ids[code], code, "CNY", limited, False, hot, now))
    await _copy(
        conn,
        "ledger_account",
        (
            "id",
            "code",
            "currency",
            "debits_must_not_exceed_credits",
            "credits_must_not_exceed_debits",
            "hot",
            "created_at",
        ),
        rows,
    )
    return ids


def _credit_code(number: int) -> str:
    body = f"91110000{number:09d}"
    return body + check_character(body)


def _provider_for(index: int, providers: list[uuid.UUID]) -> int:
    """Half the redemptions go to provider 0 (the large one), the rest round robin."""
    return 0 if index % 2 == 0 else 1 + index % (len(providers) - 1)


async def load(conn: asyncpg.Connection, redemptions: int, vouchers: int, providers: int) -> Loaded:
    """Everything the benchmark reads, in batches of ``BATCH`` rows (memory stays flat)."""
    await conn.execute("SET session_replication_role = replica")  # bulk load: triggers off
    provider_ids, enterprise = await _organisations(conn, providers)
    program_id = await _program(conn)
    voucher_ids = [new_id() for _ in range(vouchers)]
    per_voucher = (redemptions // vouchers + 1) * COVERED
    now = utcnow()
    await _copy(
        conn,
        "voucher",
        (
            "id",
            "created_at",
            "code",
            "holder_id",
            "program_id",
            "kind",
            "mode",
            "rate_bp",
            "issued_amount",
            "currency",
            "valid_from",
            "valid_until",
            "state",
        ),
        [
            (
                v,
                now,
                f"B{i:012d}",
                enterprise,
                program_id,
                "compute",
                "point_of_sale",
                5000,
                per_voucher,
                "CNY",
                now,
                now + timedelta(days=365),
                "active",
            )
            for i, v in enumerate(voucher_ids)
        ],
    )
    specs = [("treasury", False, False), (f"program:{program_id}:available", True, False)]
    specs += [(f"voucher:{v}", True, False) for v in voucher_ids]
    specs += [(f"provider:{p}:payable", True, True) for p in provider_ids]
    accounts = await _accounts(conn, specs)
    available = accounts[f"program:{program_id}:available"]
    budget = per_voucher * vouchers
    fund = [
        _transaction(
            f"bench:fund:{program_id}",
            [(accounts["treasury"], "debit", budget), (available, "credit", budget)],
            "fund",
        )
    ]
    issues = [
        _transaction(
            f"bench:issue:{v}",
            [(available, "debit", per_voucher), (accounts[f"voucher:{v}"], "credit", per_voucher)],
            f"voucher-issue:{v}",
        )
        for v in voucher_ids
    ]
    await _write(conn, fund + issues, [])
    loaded = Loaded(program_id, provider_ids, voucher_ids, accounts)
    for start in range(0, redemptions, BATCH):
        await _write(
            conn, *_redemptions(loaded, enterprise, range(start, min(start + BATCH, redemptions)))
        )
    loaded.big_provider_orders = (redemptions + 1) // 2
    await _totals(conn)
    await conn.execute("SET session_replication_role = DEFAULT")
    await conn.execute("ANALYZE")
    return loaded


def _redemptions(loaded: Loaded, enterprise: uuid.UUID, numbers: range) -> tuple[list, list]:
    transactions, rows = [], []
    for n in numbers:
        voucher = loaded.vouchers[n % len(loaded.vouchers)]
        provider = loaded.providers[_provider_for(n, loaded.providers)]
        rid = new_id()
        debit, credit = (
            loaded.accounts[f"voucher:{voucher}"],
            loaded.accounts[f"provider:{provider}:payable"],
        )
        header, entries = _transaction(
            f"redemption:{rid}:capture",
            [(debit, "debit", COVERED), (credit, "credit", COVERED)],
            f"redemption:{rid}",
        )
        transactions.append((header, entries))
        rows.append(
            (
                rid,
                header[13],
                provider,
                voucher,
                loaded.program_id,
                enterprise,
                f"ORD-{n:09d}",
                f"B{n % len(loaded.vouchers):012d}",
                2 * COVERED,
                "CNY",
                json.dumps({}),
                5000,
                COVERED,
                COVERED,
                0,
                COVERED,
                "captured",
                header[0],
                header[13],
            )
        )
    return transactions, rows


async def _write(conn: asyncpg.Connection, transactions: list, redemption_rows: list) -> None:
    await _copy(conn, "ledger_transaction", HEADER, [header for header, _ in transactions])
    await _copy(
        conn, "ledger_entry", ENTRY, [entry for _, entries in transactions for entry in entries]
    )
    if redemption_rows:
        await _copy(conn, "redemption", REDEMPTION, redemption_rows)


async def _totals(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "UPDATE ledger_account a SET debits_posted = s.d, credits_posted = s.c FROM ("
        " SELECT account_id, sum(CASE WHEN side = 'debit' THEN amount ELSE 0 END) AS d,"
        " sum(CASE WHEN side = 'credit' THEN amount ELSE 0 END) AS c"
        " FROM ledger_entry GROUP BY account_id) s WHERE s.account_id = a.id"
    )


def statement_lines(loaded: Loaded, total: int) -> Iterator[str]:
    """A 1,000,000-line statement of the large provider: its orders (a few amounts off) and more."""
    yield "order_id,amount,occurred_at\n"
    at = datetime.now(UTC).isoformat()
    for n in range(0, 2 * loaded.big_provider_orders, 2):
        yield f"ORD-{n:09d},{COVERED + (1 if n % 10_000 == 0 else 0)},{at}\n"
    for n in range(total - loaded.big_provider_orders):
        yield f"THEIRS-{n:09d},{COVERED},{at}\n"
