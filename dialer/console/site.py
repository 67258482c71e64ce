"""The console in the web app: its routes, and its answers when something is refused or not
found: HTML pages here, where the API answers JSON."""

from __future__ import annotations

import inspect
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from dialer.console import (
    campaigns,
    donotcontact,
    new_campaign,
    notifications,
    providers,
    signin,
    webhooks,
)
from dialer.console.auth import ConsoleRefused, SignInRequired
from dialer.console.pages import render
from dialer.errors import DialerError

__all__ = ["ROUTERS", "install_console"]

# In this order: /campaigns/new before /campaigns/{campaign_id}.
ROUTERS = [
    signin.router,
    new_campaign.router,
    campaigns.router,
    notifications.router,
    donotcontact.router,
    webhooks.router,
    providers.router,
]


def _in_console(request: Request) -> bool:
    return not request.url.path.startswith(("/v1/", "/static/", "/docs", "/openapi"))


def _problem(status: int, message: str) -> Response:
    context = {"operator": None, "section": "", "status": status, "message": message}
    return render("problem.html", context, status)


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = f"/login?next={quote(exc.back_to, safe='/')}"
    if request.headers.get("HX-Request"):
        # htmx follows this header with a full page load.
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, 303)


async def _refused(_request: Request, exc: Exception) -> Response:
    return _problem(403, str(exc))


async def _delegate(handler: Any, request: Request, exc: Exception) -> Response:
    answer = handler(request, exc)
    if inspect.isawaitable(answer):
        answer = await answer
    assert isinstance(answer, Response)
    return answer


def install_console(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(ConsoleRefused, _refused)
    api_errors = app.exception_handlers[DialerError]
    validation = app.exception_handlers[RequestValidationError]
    http_errors = app.exception_handlers[HTTPException]

    async def dialer_error(request: Request, exc: Exception) -> Response:
        if _in_console(request) and isinstance(exc, DialerError):
            return _problem(exc.status_code, exc.message)
        return await _delegate(api_errors, request, exc)

    async def unreadable(request: Request, exc: Exception) -> Response:
        if _in_console(request):
            return _problem(404, "There is no such page.")
        return await _delegate(validation, request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        if _in_console(request) and isinstance(exc, HTTPException) and exc.status_code == 404:
            return _problem(404, "There is no such page.")
        return await _delegate(http_errors, request, exc)

    app.add_exception_handler(DialerError, dialer_error)
    app.add_exception_handler(RequestValidationError, unreadable)
    app.add_exception_handler(HTTPException, http_error)
