"""Words for the codes the portal shows (roles, states, kinds), as catalogue messages.

Templates translate them where they are shown: ``{{ _(labels.of("role", user.role)) }}``.
"""

from __future__ import annotations

from voucher_service.portal.i18n import N_

_LABELS: dict[str, dict[str, str]] = {
    "role": {
        "owner": N_("Owner"),
        "member": N_("Member"),
        "operator": N_("Provider operator"),
        "program_admin": N_("Programme administrator"),
        "reviewer": N_("Reviewer"),
        "finance": N_("Finance officer"),
        "auditor": N_("Auditor"),
        "sysadmin": N_("System administrator"),
    },
    "user_status": {
        "invited": N_("Invited"),
        "active": N_("Active"),
        "suspended": N_("Suspended"),
    },
    "org_kind": {
        "enterprise": N_("Enterprise"),
        "provider": N_("Provider"),
        "authority": N_("Authority"),
    },
    "org_status": {"active": N_("Active"), "suspended": N_("Suspended")},
    "size": {
        "micro": N_("Micro"),
        "small": N_("Small"),
        "medium": N_("Medium"),
        "large": N_("Large"),
    },
    "client_status": {"active": N_("Active"), "revoked": N_("Revoked")},
    "auth_method": {
        "client_secret": N_("Client secret"),
        "private_key_jwt": N_("Private key (JWT assertion)"),
    },
    "event_status": {
        "pending": N_("Pending"),
        "delivered": N_("Delivered"),
        "dead": N_("Dead letter"),
        "skipped": N_("Skipped"),
    },
    "attempt_outcome": {
        "delivered": N_("Delivered"),
        "failed": N_("Failed"),
        "gone": N_("Gone (410)"),
        "lost": N_("Lost"),
    },
    "outcome": {"success": N_("Success"), "failure": N_("Failure")},
    "scope": {
        "vouchers:read": N_("Look up vouchers this provider may redeem"),
        "redemptions:read": N_("List and read this provider's redemptions"),
        "redemptions:write": N_("Authorise, capture, void and refund redemptions"),
        "settlements:read": N_("List and read this provider's settlements"),
        "settlements:write": N_("Confirm or dispute settlements and upload statements"),
        "webhooks:manage": N_("Configure the webhook endpoint"),
    },
    "program_kind": {"compute": N_("Compute voucher"), "model": N_("Model voucher")},
    "program_mode": {
        "point_of_sale": N_("Deducted when the provider bills"),
        "reimbursement": N_("Reimbursed after payment"),
    },
    "program_status": {
        "draft": N_("Draft"),
        "open": N_("Open for applications"),
        "closed": N_("Closed"),
        "archived": N_("Archived"),
    },
    "app_state": {
        "draft": N_("Draft"),
        "submitted": N_("Submitted"),
        "in_review": N_("In review"),
        "publicity": N_("In publicity"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "returned": N_("Returned for changes"),
        "withdrawn": N_("Withdrawn"),
    },
    "decision": {"approve": N_("Approved"), "reject": N_("Rejected"), "return": N_("Returned")},
    "stage_kind": {"review": N_("Review"), "publicity": N_("Publicity")},
    "tier": {
        "startup": N_("Start-ups"),
        "sme": N_("Small and medium enterprises"),
        "small_contract": N_("Small contracts"),
        "domestic_chips": N_("Contracts on domestic chips"),
        "industry": N_("Priority industries"),
        "default": N_("Everyone else"),
    },
    "cap": {
        "per_contract": N_("Cap per contract"),
        "per_claim_share": N_("Share of the contract"),
        "enterprise_annual_remaining": N_("What is left of the enterprise's annual cap"),
    },
    "rounding": {"fen": N_("to the fen"), "yuan": N_("down to whole yuan")},
    "voucher_state": {
        "active": N_("Active"),
        "frozen": N_("Frozen"),
        "exhausted": N_("Used up"),
        "expired": N_("Expired"),
        "revoked": N_("Revoked"),
    },
    "movement": {
        "transfer": N_("Transfer"),
        "hold": N_("Hold for a bill"),
        "capture": N_("Bill paid"),
        "void": N_("Hold released"),
        "expire": N_("Hold expired"),
        "reversal": N_("Correction"),
    },
    "phase": {"posted": N_("Posted"), "pending": N_("On hold"), "release": N_("Released")},
    "redemption": {
        "authorized": N_("On hold"),
        "captured": N_("Captured"),
        "voided": N_("Voided"),
        "expired": N_("Expired"),
    },
    "attachment_kind": {
        "contract": N_("Contract"),
        "business_licence": N_("Business licence"),
        "invoice": N_("Invoice"),
        "payment": N_("Proof of payment"),
        "delivery": N_("Delivery or usage report"),
        "other": N_("Other"),
    },
    "registry_state": {
        "proposed": N_("Proposed"),
        "publicity": N_("In publicity"),
        "approved": N_("Approved"),
        "suspended": N_("Suspended"),
    },
    "service_kind": {"compute": N_("Compute"), "model": N_("Models")},
    "settlement_state": {
        "draft": N_("Draft"),
        "approved": N_("Approved"),
        "paid": N_("Paid"),
        "disputed": N_("Disputed"),
    },
}

_TONES = {
    "active": "ok",
    "delivered": "ok",
    "success": "ok",
    "invited": "warn",
    "pending": "warn",
    "failed": "warn",
    "suspended": "bad",
    "revoked": "bad",
    "dead": "bad",
    "gone": "bad",
    "lost": "bad",
    "failure": "bad",
    "open": "ok",
    "approved": "ok",
    "in_review": "warn",
    "submitted": "warn",
    "publicity": "warn",
    "returned": "warn",
    "frozen": "warn",
    "rejected": "bad",
    "withdrawn": "neutral",
    "expired": "neutral",
    "exhausted": "neutral",
    "closed": "neutral",
}


def of(kind: str, value: object) -> str:
    """The catalogue message for ``value`` of ``kind`` (the code itself if it has none)."""
    text = str(value) if value is not None else ""
    return _LABELS.get(kind, {}).get(text, text)


def choices(kind: str) -> list[tuple[str, str]]:
    """Every (code, message) of ``kind``, for a select."""
    return list(_LABELS[kind].items())


def tone(value: object) -> str:
    """The badge colour of a state: ok, warn, bad, or neutral."""
    return _TONES.get(str(value), "neutral")


# Settlements and reconciliation (the provider's and finance's pages).
_LABELS.update(
    {
        "settlement": {
            "draft": N_("Draft"),
            "approved": N_("Approved"),
            "paid": N_("Paid"),
            "disputed": N_("Disputed"),
            "cancelled": N_("Cancelled"),
        },
        "settlement_item": {
            "redemption": N_("Redemption"),
            "claim": N_("Reimbursement claim"),
            "refund": N_("Refund"),
            "clawback": N_("Clawed back"),
        },
        "reconciliation": {
            "matched": N_("Matched"),
            "discrepancies": N_("Differences found"),
            "rejected": N_("Rejected: bad lines"),
        },
        "difference": {
            "missing_ours": N_("Not in our records"),
            "missing_theirs": N_("Not on your statement"),
            "amount_mismatch": N_("Amounts differ"),
        },
    }
)
_TONES.update({"paid": "ok", "matched": "ok", "disputed": "bad", "discrepancies": "warn"})


# The kinds of ledger account (the first part of an account's code), on the ledger health page.
_LABELS["account_kind"] = {
    "treasury": N_("Treasury"),
    "program": N_("Programme budgets"),
    "voucher": N_("Voucher balances"),
    "provider": N_("Payable to providers"),
    "enterprise": N_("Payable to enterprises"),
}
