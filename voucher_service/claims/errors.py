"""Problems of the claims domain."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class InvoiceAlreadyClaimed(ProblemError):
    status = 409
    code = "invoice_already_claimed"
    title = "This invoice has already been claimed in this programme"
    title_zh = "该发票已在本项目中申报过"


class VoucherNotClaimable(ProblemError):
    status = 409
    code = "voucher_not_claimable"
    title = "Claims cannot be made against this voucher"
    title_zh = "该券不能申报报销"


class ClaimStateConflict(ProblemError):
    status = 409
    code = "claim_state_conflict"
    title = "The claim has already been decided"
    title_zh = "该报销申请已处理"


class AmountAboveEligible(ProblemError):
    status = 422
    code = "amount_above_eligible"
    title = "The approved amount cannot exceed the covered amount the rules give"
    title_zh = "核定金额不得超过按规则计算的可报销金额"


class ReasonRequired(ProblemError):
    status = 422
    code = "reason_required"
    title = "A reason is required"
    title_zh = "须填写理由"


class NothingCovered(ProblemError):
    status = 422
    code = "nothing_covered"
    title = "The rules cover nothing of this claim"
    title_zh = "按规则本次申报无可报销金额"


class InsufficientVoucherBalance(ProblemError):
    status = 409
    code = "insufficient_balance"
    title = "The voucher's balance cannot cover this amount"
    title_zh = "券余额不足"
