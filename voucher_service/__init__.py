"""Compute and model voucher service (算力券 / 模型券)."""

__version__ = "0.1.0"
