"""Prometheus metrics at ``/metrics``."""
