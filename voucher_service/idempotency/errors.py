"""Problems of the idempotency layer."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class IdempotencyKeyMissing(ProblemError):
    status = 400
    code = "idempotency_key_missing"
    title = "Idempotency-Key header required"
    title_zh = "缺少 Idempotency-Key 请求头"


class IdempotencyKeyInvalid(ProblemError):
    status = 400
    code = "idempotency_key_invalid"
    title = "Invalid Idempotency-Key"
    title_zh = "Idempotency-Key 无效"


class IdempotencyKeyReused(ProblemError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency key reused for a different request"
    title_zh = "幂等键已用于另一个不同的请求"


class IdempotencyRequestInProgress(ProblemError):
    status = 409
    code = "idempotency_request_in_progress"
    title = "A request with this idempotency key is still in progress"
    title_zh = "使用该幂等键的请求仍在处理中"
