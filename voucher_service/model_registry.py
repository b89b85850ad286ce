"""Imports every table model so that ``metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

import ledger.models  # noqa: F401
import providers.callbacks.models
import providers.clients.models
import providers.registry.models
import providers.webhooks.models  # noqa: F401
import voucher_service.applications.models
import voucher_service.audit.models
import voucher_service.auth.models
import voucher_service.claims.models
import voucher_service.idempotency.models
import voucher_service.kit.models
import voucher_service.ledger_admin.models
import voucher_service.notices.models
import voucher_service.organisations.models
import voucher_service.programs.models
import voucher_service.ratelimit.models
import voucher_service.reconciliation.models
import voucher_service.redemptions.models
import voucher_service.settlements.models
import voucher_service.users.models
import voucher_service.vouchers.models
import voucher_service.worker.models  # noqa: F401

metadata = SQLModel.metadata
