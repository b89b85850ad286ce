"""Problems of the programmes domain."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class ProgramNotFound(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"


class ProgramStateConflict(ProblemError):
    status = 409
    code = "program_state_conflict"
    title = "The programme is not in a state that allows this"
    title_zh = "项目当前状态不允许此操作"


class InvalidProgramRules(ProblemError):
    status = 422
    code = "invalid_program_rules"
    title = "The programme's rules are inconsistent"
    title_zh = "项目规则不一致"


class ProviderNotEligible(ProblemError):
    status = 422
    code = "provider_not_eligible"
    title = "The provider is not eligible under this programme"
    title_zh = "该服务商不在本项目的服务商名单内"


class FundingConflict(ProblemError):
    status = 409
    code = "funding_key_reused"
    title = "This funding key was used for a different amount"
    title_zh = "该拨款幂等键已用于不同金额"


class IdempotencyKeyRequired(ProblemError):
    status = 422
    code = "idempotency_key_required"
    title = "An Idempotency-Key header (or client_reference) is required"
    title_zh = "须提供 Idempotency-Key 请求头（或 client_reference）"
