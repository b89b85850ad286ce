"""Problems of the vouchers domain."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class VoucherNotFound(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"


class InvalidVoucherCodeProblem(ProblemError):
    """A typed code that cannot be a voucher code (refused before any lookup)."""

    status = 422
    code = "invalid_voucher_code"
    title = "Invalid voucher code"
    title_zh = "券码无效"


class BudgetExhausted(ProblemError):
    status = 409
    code = "budget_exhausted"
    title = "The programme's remaining budget cannot cover this award"
    title_zh = "项目剩余预算不足"


class VoucherAlreadyIssued(ProblemError):
    status = 409
    code = "voucher_already_issued"
    title = "A voucher was already issued for this application"
    title_zh = "该申请已发放过券"


class InvalidIssueAmount(ProblemError):
    status = 422
    code = "invalid_amount"
    title = "The amount must be a positive number of fen"
    title_zh = "金额须为正整数（分）"


class VoucherStateConflict(ProblemError):
    status = 409
    code = "voucher_state_conflict"
    title = "The voucher is not in a state that allows this"
    title_zh = "券当前状态不允许此操作"


class HolderProvidersNotAllowed(ProblemError):
    status = 409
    code = "holder_providers_not_allowed"
    title = "This programme does not let holders authorise other providers"
    title_zh = "本项目不允许持券企业自行授权其他服务商"


class ProviderNotBound(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"
