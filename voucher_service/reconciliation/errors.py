"""Problems of statements and reconciliations."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class StatementEncodingUnsupported(ProblemError):
    status = 422
    code = "statement_encoding_unsupported"
    title = "Statement encoding not supported"
    title_zh = "对账单编码不受支持"


class StatementHeaderInvalid(ProblemError):
    status = 422
    code = "statement_header_invalid"
    title = "Statement header invalid"
    title_zh = "对账单表头无效"


class StatementEmpty(ProblemError):
    status = 422
    code = "statement_empty"
    title = "Statement is empty"
    title_zh = "对账单为空"


class StatementPeriodInvalid(ProblemError):
    status = 422
    code = "statement_period_invalid"
    title = "Statement period invalid"
    title_zh = "对账期间无效"


class StatementRejected(ProblemError):
    status = 422
    code = "statement_rejected"
    title = "Statement rejected: bad lines"
    title_zh = "对账单有错误行，未导入"


class ReconciliationNotFound(ProblemError):
    status = 404
    code = "reconciliation_not_found"
    title = "Reconciliation not found"
    title_zh = "对账记录不存在"
