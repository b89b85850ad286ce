"""Importing this module registers every inbound callback handler of the application.

A domain that consumes a callback type adds its module here (the settlement domain will add
``settlement.confirmed``, ``settlement.disputed`` and ``statement.submitted``).
"""

import voucher_service.callbacks.builtin
import voucher_service.settlements.callbacks  # noqa: F401
