"""Authorisation cases of the portal's claim pages (the startup's reimbursement claims).

Tried like ``portal_cases`` (a browser with a session cookie and a CSRF token). The rules are
``/v1/claims``': the enterprise's owner and members, on their own claims (another enterprise's
claim is "not found"). The portal's proof download is for the owner enterprise only (the
authority reads proofs through its own review pages).
"""

from __future__ import annotations

from tests.authz.application_cases import VALIDATION_ONLY, a_claim, a_claim_proof
from tests.authz.case import constant
from tests.authz.portal2_cases import ENTERPRISE_PEOPLE, ENTERPRISE_PEOPLE_ON_OWN, ENTERPRISES
from tests.authz.portal_cases import form, page

CLAIM = "/portal/enterprise/claims/{claim_id}"

#: Appended to ``ROUTES`` in ``matrix.py``.
PORTAL5_ROUTES = [
    page("/portal/enterprise/claims", ENTERPRISE_PEOPLE),
    page("/portal/enterprise/claims/new", ENTERPRISE_PEOPLE),
    # Without the proofs the form is shown again (422): who may try is what is checked here.
    form(
        "/portal/enterprise/claims/new",
        ENTERPRISE_PEOPLE,
        form=constant({"invoice_number": "X"}),
        ok=VALIDATION_ONLY,
    ),
    page(CLAIM, ENTERPRISE_PEOPLE_ON_OWN, target=a_claim, target_kinds=ENTERPRISES),
    page(
        CLAIM + "/attachments/{attachment_id}",
        ENTERPRISE_PEOPLE_ON_OWN,
        target=a_claim_proof,
        target_kinds=ENTERPRISES,
    ),
]
