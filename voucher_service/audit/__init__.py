"""The audit trail: append-only events, linked into a hash chain by a worker job.

Other domains import ``from voucher_service.audit import service as audit`` and call
``await audit.record(session, action=..., actor=principal, target=(type, id), before=...,
after=...)`` inside their unit of work, or ``audit.record_separately(database, ...)`` for refusals
that must survive the request's rollback.
"""
