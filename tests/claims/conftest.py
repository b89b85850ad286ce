"""A small attachment limit, so that oversized proofs are cheap to send."""

from __future__ import annotations

import pytest

from voucher_service.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"attachment_max_bytes": 64 * 1024})
