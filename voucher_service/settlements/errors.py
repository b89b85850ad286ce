"""Problems of settlements."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class SettlementNotFound(ProblemError):
    status = 404
    code = "settlement_not_found"
    title = "Settlement not found"
    title_zh = "结算单不存在"


class SettlementPeriodInvalid(ProblemError):
    status = 422
    code = "settlement_period_invalid"
    title = "Settlement period invalid"
    title_zh = "结算期间无效"


class SettlementGenerationConflict(ProblemError):
    status = 409
    code = "settlement_generation_conflict"
    title = "Another generation took some of these items; try again"
    title_zh = "部分结算项已被另一次生成占用，请重试"


class SettlementStateConflict(ProblemError):
    status = 409
    code = "settlement_state_conflict"
    title = "The settlement is not in a state that allows this"
    title_zh = "结算单当前状态不允许此操作"


class FourEyesRequired(ProblemError):
    status = 409
    code = "four_eyes_required"
    title = "A second finance officer must approve this settlement"
    title_zh = "该结算单须由另一名财务人员复核批准"


class ResponseWindowClosed(ProblemError):
    status = 409
    code = "settlement_response_window_closed"
    title = "The time to confirm or dispute this settlement is over"
    title_zh = "确认或异议期限已过"


class AwaitingProviderResponse(ProblemError):
    status = 409
    code = "settlement_awaiting_response"
    title = "The payee has neither confirmed nor let the response window pass"
    title_zh = "收款方尚未确认，且确认期限未到"


class NothingToPay(ProblemError):
    status = 409
    code = "settlement_nothing_to_pay"
    title = "The settlement's net amount is not positive"
    title_zh = "结算净额不为正，无需支付"
