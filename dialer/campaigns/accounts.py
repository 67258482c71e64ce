"""/v1/providers: each configured provider account, its balance read now, its money rules in
its own unit, and its limits."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from dialer.campaigns.credit import minimum, read_balance
from dialer.config import ProviderLimits
from dialer.deps import ApiKeyDep, RuntimeDep

__all__ = ["router"]

router = APIRouter(prefix="/v1/providers", tags=["providers"])


class ProviderPublic(BaseModel):
    name: str
    unit: str
    # None when it could not be read; `balance_problem` says why.
    balance: float | None
    balance_problem: str | None
    # Campaigns start and keep running only above this plus their estimated remaining cost.
    minimum: float
    cost_per_attempt: dict[str, float]
    # Requests per second by kind, and calls live at once (None: no cap of ours).
    limits: ProviderLimits


@router.get("")
async def list_providers(runtime: RuntimeDep, _key: ApiKeyDep) -> list[ProviderPublic]:
    found = []
    for name in runtime.providers:
        balance, problem = await read_balance(runtime, name)
        terms = runtime.settings.credit_for(name)
        found.append(
            ProviderPublic(
                name=name,
                unit=terms.unit,
                balance=balance,
                balance_problem=problem,
                minimum=await minimum(runtime, name),
                cost_per_attempt=dict(terms.per_attempt),
                limits=runtime.settings.limits_for(name),
            )
        )
    return found
