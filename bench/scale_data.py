"""Bulk loading for ``bench/scale.py``: programme, vouchers, providers and redemptions written
straight into the tables with COPY, as ledger-consistent rows (every transaction balanced and
hashed as the ledger would, account totals equal to their legs)."""

from __future__ import annotations

import hashlib
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
    await _generate_redemptions(conn, loaded, enterprise, redemptions)
    loaded.big_provider_orders = (redemptions + 1) // 2
    await _totals(conn)
    await conn.execute("SET session_replication_role = DEFAULT")
    await conn.execute("ANALYZE")
    return loaded


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


async def _mapping_tables(conn: asyncpg.Connection, loaded: Loaded) -> None:
    """Temporary tables: voucher and provider by number, with their ledger accounts."""
    await conn.execute(
        "CREATE TEMPORARY TABLE bench_voucher (n int PRIMARY KEY, id uuid, account uuid)"
        " ON COMMIT DROP;"
        "CREATE TEMPORARY TABLE bench_provider (n int PRIMARY KEY, id uuid, account uuid)"
        " ON COMMIT DROP"
    )
    await conn.copy_records_to_table(
        "bench_voucher",
        records=[(n, v, loaded.accounts[f"voucher:{v}"]) for n, v in enumerate(loaded.vouchers)],
    )
    await conn.copy_records_to_table(
        "bench_provider",
        records=[
            (n, p, loaded.accounts[f"provider:{p}:payable"]) for n, p in enumerate(loaded.providers)
        ],
    )


#: One row per redemption: UUIDv7 ids one millisecond apart ending now (the redemption's id and
#: its capture transaction's share the millisecond), voucher ``n % vouchers``, provider as in
#: ``_provider_for``; the content hash is the ledger's canonical JSON, built as text.
GENERATE = """
CREATE TEMPORARY TABLE bench_redemption ON COMMIT DROP AS
WITH numbered AS (
    SELECT n, $2::bigint + n AS ms,
           CASE WHEN n % 2 = 0 THEN 0 ELSE 1 + n % ($4 - 1) END AS provider_n
    FROM generate_series(0, $1 - 1) AS n
), ids AS (
    SELECT n, ms, provider_n,
           lpad(to_hex(ms), 12, '0') AS stamp, lpad(to_hex(n), 15, '0') AS tail
    FROM numbered
), made AS (
    SELECT ids.n, ids.ms,
           (substr(stamp, 1, 8) || '-' || substr(stamp, 9, 4) || '-7000-8' || substr(tail, 1, 3)
            || '-' || substr(tail, 4))::uuid AS tid,
           (substr(stamp, 1, 8) || '-' || substr(stamp, 9, 4) || '-7001-8' || substr(tail, 1, 3)
            || '-' || substr(tail, 4))::uuid AS rid,
           v.id AS voucher_id, v.account AS debit, p.id AS provider_id, p.account AS credit
    FROM ids
    JOIN bench_voucher v ON v.n = ids.n % $3
    JOIN bench_provider p ON p.n = ids.provider_n
)
SELECT made.*, timestamptz 'epoch' + ms * interval '1 millisecond' AS created_at,
       'redemption:' || rid || ':capture' AS client_id, 'redemption:' || rid AS reference
FROM made
"""

HASHED = """
ALTER TABLE bench_redemption ADD COLUMN fingerprint text, ADD COLUMN iso text;
UPDATE bench_redemption SET
    fingerprint = encode(sha256(convert_to(client_id, 'UTF8')), 'hex'),
    iso = to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
          || CASE WHEN ms % 1000 = 0 THEN ''
                  ELSE '.' || lpad((ms % 1000)::text, 3, '0') || '000' END
          || '+00:00'
"""

INSERT_TRANSACTIONS = """
INSERT INTO ledger_transaction (id, client_id, fingerprint, kind, status, currency, reference,
                                leg_count, created_at, content_hash)
SELECT tid, client_id, fingerprint, 'transfer', 'committed', 'CNY', reference, 2, created_at,
       encode(sha256(convert_to(
           '{"client_id":"' || client_id || '","created_at":"' || iso
           || '","currency":"CNY","details":null,"error_code":null,"error_detail":null,'
           || '"fingerprint":"' || fingerprint || '","id":"' || tid
           || '","kind":"transfer","leg_count":2,"legs":[[0,"' || debit || '","debit","posted",'
           || $1::bigint || '],[1,"' || credit || '","credit","posted",' || $1::bigint
           || ']],"reference":"'
           || reference || '","related_id":null,"status":"committed","timeout_ms":null,"v":1}',
           'UTF8')), 'hex')
FROM bench_redemption ORDER BY tid
"""

INSERT_ENTRIES = """
INSERT INTO ledger_entry (transaction_id, position, account_id, side, phase, amount)
SELECT tid, leg.position, leg.account_id, leg.side, 'posted', $1::bigint
FROM bench_redemption,
     LATERAL (VALUES (0, debit, 'debit'), (1, credit, 'credit')) AS leg(position, account_id, side)
ORDER BY tid, leg.position
"""

INSERT_REDEMPTIONS = """
INSERT INTO redemption (id, created_at, provider_id, voucher_id, program_id, enterprise_id,
                        order_id, voucher_code, bill_amount, currency, usage, rate_bp,
                        covered_amount, captured_amount, refunded_amount,
                        enterprise_payable_amount, status, authorization_transaction_id,
                        captured_at)
SELECT rid, created_at, provider_id, voucher_id, $2, $3, 'ORD-' || lpad(n::text, 9, '0'),
       'B' || lpad((n % $4)::text, 12, '0'), 2 * $1::bigint, 'CNY', '{}', 5000, $1::bigint,
       $1::bigint, 0, $1::bigint,
       'captured', tid, created_at
FROM bench_redemption ORDER BY rid
"""


async def _generate_redemptions(
    conn: asyncpg.Connection, loaded: Loaded, enterprise: uuid.UUID, count: int
) -> None:
    """Every redemption, its capture transaction and legs, generated and hashed in SQL."""
    first_ms = int(utcnow().timestamp() * 1000) - count - 60_000
    async with conn.transaction():
        await _mapping_tables(conn, loaded)
        await conn.execute(GENERATE, count, first_ms, len(loaded.vouchers), len(loaded.providers))
        await conn.execute(HASHED)
        await conn.execute(INSERT_TRANSACTIONS, COVERED)
        await conn.execute(INSERT_ENTRIES, COVERED)
        await conn.execute(
            INSERT_REDEMPTIONS, COVERED, loaded.program_id, enterprise, len(loaded.vouchers)
        )


async def loaded_from(conn: asyncpg.Connection) -> Loaded:
    """What ``load`` returned, read back from a database it filled earlier."""
    program_id = await conn.fetchval("SELECT id FROM program WHERE name = 'bench'")
    providers = [
        row["id"]
        for row in await conn.fetch(
            "SELECT id FROM organisation WHERE kind = 'provider' ORDER BY substr(name, 11)::int"
        )
    ]
    vouchers = [row["id"] for row in await conn.fetch("SELECT id FROM voucher ORDER BY code")]
    accounts = {
        row["code"]: row["id"] for row in await conn.fetch("SELECT code, id FROM ledger_account")
    }
    loaded = Loaded(program_id, providers, vouchers, accounts)
    loaded.big_provider_orders = await conn.fetchval(
        "SELECT count(*) FROM redemption WHERE provider_id = $1", providers[0]
    )
    return loaded
