"""What the staff pages and the API share about personal data: where a request came from, for the access record."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from engine.privacy.access import Client
from web.deps import ClientAddress


async def access_client(request: Request, address: ClientAddress) -> Client:
    """Return the request's client address and user agent, as the access record keeps them."""
    return Client(ip=address, user_agent=request.headers.get("user-agent"))


AccessClient = Annotated[Client, Depends(access_client)]
