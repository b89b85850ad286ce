"""Problems of the organisations domain."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class InvalidCreditCode(ProblemError):
    status = 422
    code = "invalid_credit_code"
    title = "Invalid unified social credit code"
    title_zh = "统一社会信用代码无效"


class CreditCodeTaken(ProblemError):
    status = 409
    code = "credit_code_taken"
    title = "Credit code already registered"
    title_zh = "该统一社会信用代码已注册"


class OrganisationStateConflict(ProblemError):
    status = 409
    code = "organisation_state_conflict"
    title = "The organisation is not in a state that allows this"
    title_zh = "机构当前状态不允许此操作"


class OrganisationNotFound(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"
