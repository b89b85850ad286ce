"""Property tests of the hashing and id helpers: Merkle proofs, canonical JSON, UUIDv7 times."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.hashing import (
    canonical_json,
    fingerprint,
    inclusion_proof,
    merkle_root,
    root_from_proof,
)
from ledger.ids import created_at_of, first_id_at
from ledger.sqltypes import new_id

leaves = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70)


@given(leaves, st.data())
def test_every_leaf_proves_its_inclusion(values: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(values) - 1))
    proof = inclusion_proof(values, index)
    assert root_from_proof(values[index], index, len(values), proof) == merkle_root(values)
    assert len(proof) <= max(1, len(values) - 1).bit_length()


@given(leaves, st.data())
def test_a_changed_leaf_does_not_prove_inclusion(values: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(values) - 1))
    proof = inclusion_proof(values, index)
    forged = hashlib.sha256(values[index]).digest()
    assert root_from_proof(forged, index, len(values), proof) != merkle_root(values)


def test_merkle_edge_cases() -> None:
    leaf = b"\x01" * 32
    assert merkle_root([]) == hashlib.sha256(b"").digest()
    assert merkle_root([leaf]) == hashlib.sha256(b"\x00" + leaf).digest()
    assert inclusion_proof([leaf], 0) == []
    with pytest.raises(IndexError):
        inclusion_proof([leaf], 1)
    with pytest.raises(IndexError):
        root_from_proof(leaf, 3, 3, [])
    three = [leaf, b"\x02" * 32, b"\x03" * 32]
    proof = inclusion_proof(three, 2)
    with pytest.raises(ValueError, match="longer"):
        root_from_proof(three[2], 2, 3, [*proof, leaf])
    with pytest.raises(ValueError, match="shorter"):
        root_from_proof(three[2], 2, 3, proof[:-1])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_canonical_json_ignores_key_order(value: dict[str, object]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert canonical_json(value) == canonical_json(reordered)
    assert fingerprint(value) == fingerprint(reordered)


def test_canonical_json_encodes_ids_and_times_and_nothing_else() -> None:
    some = uuid.UUID(int=1)
    moment = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    assert canonical_json({"id": some, "at": moment}) == (
        b'{"at":"2026-01-02T03:04:05.006000+00:00","id":"00000000-0000-0000-0000-000000000001"}'
    )
    with pytest.raises(TypeError, match="set"):
        canonical_json({"bad": {1, 2}})


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    )
)
def test_first_id_at_splits_ids_by_creation_time(moment: datetime) -> None:
    boundary = first_id_at(moment)
    created = created_at_of(boundary)
    assert moment <= created < moment + timedelta(milliseconds=1)
    assert created_at_of(first_id_at(created)) == created


def test_new_ids_carry_their_creation_time() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    made = new_id()
    after = datetime.now(UTC)
    assert before <= created_at_of(made) <= after
    assert first_id_at(before) <= made < first_id_at(after + timedelta(milliseconds=1))
    with pytest.raises(ValueError, match="naive"):
        first_id_at(datetime(2026, 1, 1))
