"""Canonical encodings and hashes: request fingerprints, transaction content hashes, Merkle roots.

Everything hashed is first encoded as canonical JSON (sorted keys, no spaces, UTF-8), so the same
content always gives the same bytes on every host and after a database round trip.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ledger.types import JsonObject, Leg

CONTENT_VERSION = 1
_LEAF = b"\x00"
_NODE = b"\x01"


def _default(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes of ``value`` (UUIDs and datetimes as strings)."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,  # NaN and infinities are not JSON; PostgreSQL would refuse them too
        default=_default,
    ).encode()


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def fingerprint(request: JsonObject) -> str:
    """What a request asked for, as a hash: the same client id must always ask the same."""
    return sha256_hex(canonical_json(request))


def legs_content(legs: Iterable[Leg]) -> list[list[object]]:
    """Legs as the lists the content hash covers."""
    return [[leg.position, leg.account_id, leg.side, leg.phase, leg.amount] for leg in legs]


def content_hash(header: JsonObject, legs: Sequence[Leg]) -> str:
    """The hash of a journal transaction: its header fields and every leg, in order."""
    return sha256_hex(canonical_json({"v": CONTENT_VERSION, **header, "legs": legs_content(legs)}))


def _largest_power_of_two_below(count: int) -> int:
    power = 1
    while power * 2 < count:
        power *= 2
    return power


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of ``leaves`` (leaf and node hashes domain-separated)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(_LEAF + leaves[0]).digest()
    split = _largest_power_of_two_below(len(leaves))
    return hashlib.sha256(
        _NODE + merkle_root(leaves[:split]) + merkle_root(leaves[split:])
    ).digest()


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path (RFC 6962) that proves ``leaves[index]`` is in ``merkle_root(leaves)``."""
    if not 0 <= index < len(leaves):
        raise IndexError("leaf index out of range")
    if len(leaves) == 1:
        return []
    split = _largest_power_of_two_below(len(leaves))
    if index < split:
        return [*inclusion_proof(leaves[:split], index), merkle_root(leaves[split:])]
    return [*inclusion_proof(leaves[split:], index - split), merkle_root(leaves[:split])]


def root_from_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Recompute the Merkle root from one leaf and its audit path (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise IndexError("leaf index out of range")
    node = hashlib.sha256(_LEAF + leaf).digest()
    position, last = index, size - 1
    for sibling in proof:
        if last == 0:
            raise ValueError("proof is longer than the tree is deep")
        if position % 2 == 1 or position == last:
            node = hashlib.sha256(_NODE + sibling + node).digest()
            while position % 2 == 0 and position != 0:
                position, last = position >> 1, last >> 1
        else:
            node = hashlib.sha256(_NODE + node + sibling).digest()
        position, last = position >> 1, last >> 1
    if last != 0:
        raise ValueError("proof is shorter than the tree is deep")
    return node
