"""HTTP side of provider API clients: operators manage credentials; clients see themselves.

The credential models and rules live in ``providers.clients``; this package adds routes,
authorisation and audit events.
"""

from providers.clients import errors
from voucher_service.kit.problems import register_foreign

# The library's exceptions become problems once, here (before the app installs its handlers).
register_foreign(errors.InvalidJwk, 422)
register_foreign(errors.InvalidScope, 422)
register_foreign(errors.ClientRevoked, 409)
register_foreign(errors.WrongAuthMethod, 422)
register_foreign(errors.ClientAuthenticationFailed, 401)
