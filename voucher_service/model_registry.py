"""Imports every table model so that ``metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

import ledger.models  # noqa: F401
import voucher_service.kit.models
import voucher_service.worker.models  # noqa: F401

metadata = SQLModel.metadata
