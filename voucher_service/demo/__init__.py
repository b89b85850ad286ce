"""``voucher-service demo``: a realistic programme on the embedded database, for trying it out."""
