"""Fixtures of the ledger's tests (a signing key ring) for the benchmarks' tests."""

from tests.ledger.conftest import keyring

__all__ = ["keyring"]
