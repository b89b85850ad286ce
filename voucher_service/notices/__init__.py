"""Scheduled notices: vouchers about to expire (outbox event and a notice for the holder)."""
