"""Exceptions of the provider registry, each with a stable machine ``code``.

The application maps them to RFC 9457 problems (``voucher_service.provider_registry.problems``);
this package knows no HTTP.
"""

from __future__ import annotations

from typing import ClassVar


class RegistryError(Exception):
    """Base class of the registry's refusals."""

    code: ClassVar[str] = "provider_registry_error"
    title: ClassVar[str] = "Provider registry error"
    title_zh: ClassVar[str] = "服务商登记错误"


class ProviderNotFound(RegistryError):
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"


class ProviderNotApproved(RegistryError):
    """The provider is not (yet) on the whitelist."""

    code = "provider_not_approved"
    title = "The provider is not approved"
    title_zh = "服务商尚未获准入"


class ProviderSuspended(RegistryError):
    """The provider was suspended: no voucher may be redeemed with it."""

    code = "provider_suspended"
    title = "The provider is suspended"
    title_zh = "服务商已被暂停"


class ProviderStateConflict(RegistryError):
    """The change does not follow proposed → publicity → approved ⇄ suspended."""

    code = "provider_state_conflict"
    title = "The provider is not in a state that allows this"
    title_zh = "服务商当前状态不允许此操作"


class PublicityNotOver(RegistryError):
    code = "publicity_not_over"
    title = "The publicity period has not ended"
    title_zh = "公示期尚未结束"


class FilingNumberRequired(RegistryError):
    """A model provider needs its generative-AI filing number (备案号) to be approved."""

    code = "filing_number_required"
    title = "A model provider needs its generative-AI filing number"
    title_zh = "模型服务商须提供生成式人工智能服务备案号"


class ProviderAlreadyRegistered(RegistryError):
    code = "provider_already_registered"
    title = "The provider is already registered"
    title_zh = "服务商已登记"


class CatalogueItemConflict(RegistryError):
    code = "catalogue_item_exists"
    title = "The provider already lists this resource and unit"
    title_zh = "该服务商已登记此资源及计量单位"
