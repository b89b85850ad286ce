"""Load-and-authorise dependencies for provider API credentials."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from providers.clients.models import ApiClient
from voucher_service.auth.dependencies import ProviderOperator, load_owned
from voucher_service.dependencies import SessionDep


async def valid_client_for_operator(
    request: Request,
    principal: ProviderOperator,
    session: SessionDep,
    client_pk: Annotated[uuid.UUID, Path(description="the credential's id (not its client_id)")],
) -> ApiClient:
    """A credential of the operator's own provider; anyone else's is "not found" (audited)."""
    return await load_owned(request, session, principal, ApiClient, client_pk)


OwnClient = Annotated[ApiClient, Depends(valid_client_for_operator)]
