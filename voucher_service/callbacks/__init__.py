"""HTTP side of inbound provider callbacks (verification and storage: ``providers.callbacks``).

``router`` is ``POST /v1/provider/callbacks``; ``handlers`` imports every module that registers a
callback handler, the way ``voucher_service.worker.jobs`` does for jobs.
"""

from providers.callbacks import errors
from voucher_service.kit.problems import register_foreign

# The library's refusals become problems once, here (before the app installs its handlers).
STATUSES: dict[type[errors.CallbackError], int] = {
    errors.CallbackSignatureMissing: 400,
    errors.CallbackSignatureInvalid: 400,
    errors.CallbackMalformed: 400,
    errors.CallbackStale: 400,
    errors.CallbackSigningKeyRequired: 403,
    errors.CallbackScopeMissing: 403,
    errors.CallbackInvalid: 422,
    errors.CallbackTypeUnknown: 422,
    errors.CallbackDataInvalid: 422,
    errors.CallbackIdReused: 422,
}
for _exc_type, _status in STATUSES.items():
    register_foreign(_exc_type, _status)
