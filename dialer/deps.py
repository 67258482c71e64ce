"""FastAPI dependencies: the runtime, a unit-of-work session, the caller's API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.apikeys import authenticate
from dialer.db import read_scope, session_scope
from dialer.errors import Unauthorized
from dialer.guard import API_KEY_STATE, UNAUTHORIZED
from dialer.models import ApiKey
from dialer.runtime import Runtime

__all__ = ["ApiKeyDep", "ReadSessionDep", "RuntimeDep", "SessionDep"]


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain def dependency on its thread pool, a hop per request.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with session_scope(runtime.sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with read_scope(runtime.sessions) as session:
        yield session


# For endpoints that only read: on SQLite they then never hold back dispatch's writes.
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]

_bearer = HTTPBearer(auto_error=False)


async def require_api_key(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    # dialer.guard authenticated it before the body was read.
    checked = getattr(request.state, API_KEY_STATE, None)
    if isinstance(checked, ApiKey):
        return checked
    unauthorized = Unauthorized(
        UNAUTHORIZED,
        headers={"WWW-Authenticate": "Bearer"},
    )
    if credentials is None:
        raise unauthorized
    async with read_scope(runtime.sessions) as session:
        key = await authenticate(session, credentials.credentials)
    if key is None:
        raise unauthorized
    return key


ApiKeyDep = Annotated[ApiKey, Depends(require_api_key)]
