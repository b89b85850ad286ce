"""The provider registry's exceptions as problem responses (imported by the app at start)."""

from __future__ import annotations

from providers.registry import errors
from voucher_service.kit.problems import register_foreign

STATUSES: dict[type[errors.RegistryError], int] = {
    errors.ProviderNotFound: 404,
    errors.ProviderNotApproved: 409,
    errors.ProviderSuspended: 409,
    errors.ProviderStateConflict: 409,
    errors.PublicityNotOver: 409,
    errors.FilingNumberRequired: 422,
    errors.ProviderAlreadyRegistered: 409,
    errors.CatalogueItemConflict: 409,
}

for _exc_type, _status in STATUSES.items():
    register_foreign(_exc_type, _status)
