"""The ledger fixtures (``keyring``) for the application-side ledger tests."""

from tests.ledger.conftest import keyring  # noqa: F401
