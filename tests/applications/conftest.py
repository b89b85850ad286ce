"""A small attachment limit, so that oversized files are cheap to send."""

from __future__ import annotations

import pytest

from voucher_service.settings import Settings

ATTACHMENT_LIMIT = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"attachment_max_bytes": ATTACHMENT_LIMIT})
