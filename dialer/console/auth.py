"""Who is using the console: a session signed in with an API key, its scope, and the CSRF
token every form that changes something must send back."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from dialer.console.sessions import SignedIn, csrf_token, unseal, valid_csrf
from dialer.db import read_scope
from dialer.deps import RuntimeDep
from dialer.guard import SAFE_METHODS
from dialer.models import ApiKey
from dialer.vocabulary import Scope

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AdminDep",
    "ConsoleRefused",
    "Operator",
    "OperatorDep",
    "SignInRequired",
]

SESSION_COOKIE = "dialer_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """No valid session: the visitor is sent to /login, and back here after."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class ConsoleRefused(Exception):
    """A signed-in operator asked for something they may not do (403)."""


@dataclass(frozen=True)
class Operator:
    key_name: str
    key_prefix: str
    scope: Scope
    session: SignedIn
    csrf: str

    @property
    def can_change(self) -> bool:
        return self.scope is Scope.admin


def _back_to(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


async def current_operator(request: Request, runtime: RuntimeDep) -> Operator:
    secret = runtime.settings.secret_key.get_secret_value()
    cookie = request.cookies.get(SESSION_COOKIE)
    signed = unseal(secret, cookie, time.time()) if cookie else None
    key: ApiKey | None = None
    if signed is not None:
        async with read_scope(runtime.sessions) as session:
            key = await session.get(ApiKey, signed.key_id)
    if signed is None or key is None or key.revoked_at is not None:
        raise SignInRequired(_back_to(request))
    return Operator(
        key_name=key.name,
        key_prefix=key.prefix,
        scope=key.scope,
        session=signed,
        csrf=csrf_token(secret, signed),
    )


OperatorDep = Annotated[Operator, Depends(current_operator)]


async def changing_operator(
    request: Request, runtime: RuntimeDep, operator: OperatorDep
) -> Operator:
    """The operator, if they may change things and the request carries their CSRF token. The
    body is read only after the session is checked."""
    if request.method in SAFE_METHODS:
        return operator
    if not operator.can_change:
        raise ConsoleRefused("this key's scope is viewer: it may look but not change anything")
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        field = (await request.form()).get(CSRF_FIELD)
        presented = field if isinstance(field, str) else ""
    if not valid_csrf(runtime.settings.secret_key.get_secret_value(), operator.session, presented):
        raise ConsoleRefused(
            "the form's security token is missing or out of date: reload the page and try again"
        )
    return operator


AdminDep = Annotated[Operator, Depends(changing_operator)]
