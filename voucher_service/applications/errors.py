"""Problems of the applications domain; each rule of the programme has its own code."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class AttachmentEmpty(ProblemError):
    status = 422
    code = "attachment_empty"
    title = "The file is empty"
    title_zh = "文件为空"


class AttachmentTooLarge(ProblemError):
    status = 413
    code = "attachment_too_large"
    title = "The file is too large"
    title_zh = "文件过大"


class AttachmentTypeNotAllowed(ProblemError):
    status = 415
    code = "attachment_type_not_allowed"
    title = "Only PDF, PNG and JPEG files are accepted"
    title_zh = "仅接受 PDF、PNG、JPEG 文件"


class AttachmentTypeMismatch(ProblemError):
    status = 415
    code = "attachment_type_mismatch"
    title = "The file's content does not match its name"
    title_zh = "文件内容与文件名不符"


class AttachmentNameInvalid(ProblemError):
    status = 422
    code = "attachment_name_invalid"
    title = "Invalid file name"
    title_zh = "文件名无效"


class AttachmentMissing(ProblemError):
    status = 422
    code = "attachment_missing"
    title = "No file in the request"
    title_zh = "请求中没有文件"


class ApplicationStateConflict(ProblemError):
    status = 409
    code = "application_state_conflict"
    title = "The application is not in a state that allows this"
    title_zh = "申请当前状态不允许此操作"


class ApplicationWindowClosed(ProblemError):
    status = 409
    code = "application_window_closed"
    title = "The programme is not accepting applications"
    title_zh = "该项目当前不受理申请"


class ContractOutsideWindow(ProblemError):
    status = 422
    code = "contract_outside_window"
    title = "The contract is outside the programme's eligible period"
    title_zh = "合同不在项目支持期内"


class ContractAlreadyClaimed(ProblemError):
    status = 409
    code = "contract_already_claimed"
    title = "This contract has already been claimed in this programme"
    title_zh = "该合同已在本项目中申请过"


class ProviderSuspended(ProblemError):
    status = 409
    code = "provider_suspended"
    title = "The provider is suspended"
    title_zh = "该服务商已被暂停"


class RelatedPartyDeclared(ProblemError):
    status = 422
    code = "related_party_declared"
    title = "The enterprise and the provider are related parties"
    title_zh = "企业与服务商存在关联关系"


class AnnualCapExceeded(ProblemError):
    status = 409
    code = "annual_cap_exceeded"
    title = "The enterprise's annual cap is used up"
    title_zh = "企业年度补贴上限已用完"


class AttachmentRequired(ProblemError):
    status = 422
    code = "attachment_required"
    title = "Required attachments are missing"
    title_zh = "缺少必需的附件"


class NothingEligible(ProblemError):
    status = 422
    code = "nothing_eligible"
    title = "The contract gives no eligible amount"
    title_zh = "该合同无可补贴金额"


class FourEyesRequired(ProblemError):
    status = 409
    code = "four_eyes_required"
    title = "Another person must make this decision"
    title_zh = "此决定须由另一人作出"


class PublicityInProgress(ProblemError):
    status = 409
    code = "publicity_in_progress"
    title = "The publicity period has not ended"
    title_zh = "公示期尚未结束"


class EarlierApplicationWaiting(ProblemError):
    status = 409
    code = "earlier_application_waiting"
    title = "An application with an earlier contract must be decided first"
    title_zh = "须先决定合同日期更早的申请"


class AwaitingBatch(ProblemError):
    status = 409
    code = "awaiting_batch_close"
    title = "Awards of this programme are issued when its batch is closed"
    title_zh = "本项目在批次结束时统一发放"


class CommentRequired(ProblemError):
    status = 422
    code = "comment_required"
    title = "A comment is required"
    title_zh = "须填写意见"
