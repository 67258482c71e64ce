"""/providers: each configured provider account, its balance read now, its limits, the ceiling
its 429s taught the limiter and how recently it throttled."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dialer.campaigns.accounts import accounts_now
from dialer.console.auth import OperatorDep
from dialer.console.pages import render
from dialer.deps import RuntimeDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/providers")
async def providers(runtime: RuntimeDep, operator: OperatorDep) -> Response:
    return render(
        "providers.html",
        {
            "operator": operator,
            "section": "providers",
            "zone": runtime.settings.console_timezone,
            "accounts": await accounts_now(runtime),
        },
    )
