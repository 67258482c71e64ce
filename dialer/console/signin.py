"""/login and /logout: an API key in a form exchanged for a signed session cookie."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from dialer.apikeys import authenticate
from dialer.console.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    ConsoleRefused,
    SignInRequired,
    current_operator,
)
from dialer.console.pages import render
from dialer.console.sessions import (
    LIFETIME_S,
    SignedIn,
    login_token,
    new_nonce,
    seal,
    valid_csrf,
    valid_login_token,
)
from dialer.db import read_scope
from dialer.deps import RuntimeDep
from dialer.runtime import Runtime

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "dialer_login"
HOME = "/campaigns"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site's address."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return HOME
    if any(ord(c) < 0x20 or c == "\\" for c in value) or len(value) > 2000:
        return HOME
    return value


def _secure(runtime: Runtime) -> bool:
    return runtime.settings.public_url.lower().startswith("https://")


def _login_page(runtime: Runtime, back_to: str, problem: str | None, status: int) -> Response:
    nonce = new_nonce()
    secret = runtime.settings.secret_key.get_secret_value()
    page = render(
        "login.html",
        {
            "next": back_to,
            "problem": problem,
            "csrf": login_token(secret, nonce),
            "operator": None,
            "section": "login",
        },
        status,
    )
    page.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=_secure(runtime),
    )
    return page


@router.get("/login")
async def login_form(
    request: Request,
    runtime: RuntimeDep,
    next_: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    try:
        await current_operator(request, runtime)
    except SignInRequired:
        return _login_page(runtime, safe_next(next_), None, 200)
    return RedirectResponse(safe_next(next_), 303)


@router.post("/login")
async def login(request: Request, runtime: RuntimeDep) -> Response:
    form = await request.form()
    key, token, back = (form.get(name) for name in ("api_key", CSRF_FIELD, "next"))
    back_to = safe_next(back if isinstance(back, str) else None)
    secret = runtime.settings.secret_key.get_secret_value()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not (nonce and isinstance(token, str) and valid_login_token(secret, nonce, token)):
        problem = "The sign-in form had expired. Please enter your key again."
        return _login_page(runtime, back_to, problem, 403)
    found = None
    if isinstance(key, str) and 0 < len(key.strip()) <= 200:
        async with read_scope(runtime.sessions) as session:
            found = await authenticate(session, key.strip())
    if found is None or found.id is None:
        problem = "That API key is not valid, or it has been revoked."
        return _login_page(runtime, back_to, problem, 401)
    signed = SignedIn(key_id=found.id, nonce=new_nonce(), issued_at=int(time.time()))
    answer = RedirectResponse(back_to, 303)
    answer.set_cookie(
        SESSION_COOKIE,
        seal(secret, signed),
        max_age=LIFETIME_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(runtime),
    )
    answer.delete_cookie(LOGIN_COOKIE, path="/login")
    return answer


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep) -> Response:
    operator = await current_operator(request, runtime)
    token = (await request.form()).get(CSRF_FIELD)
    secret = runtime.settings.secret_key.get_secret_value()
    if not (isinstance(token, str) and valid_csrf(secret, operator.session, token)):
        raise ConsoleRefused("the form's security token is missing or out of date: reload the page")
    answer = RedirectResponse("/login", 303)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer
