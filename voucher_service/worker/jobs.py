"""Imports every module that registers worker jobs, so a worker knows them all."""

import voucher_service.accounting.jobs
import voucher_service.audit.jobs
import voucher_service.auth.jobs
import voucher_service.idempotency.jobs
import voucher_service.notices.jobs
import voucher_service.redemptions.jobs
import voucher_service.vouchers.jobs
import voucher_service.webhooks.jobs
import voucher_service.worker.heartbeat  # noqa: F401
