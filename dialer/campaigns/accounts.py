"""/v1/providers: each configured provider account, its balance read now, its money rules in
its own unit, its limits, and how its pacing stands (the rate allowed now, the ceiling 429s
taught it, the 429s themselves)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from dialer.campaigns.credit import minimum, read_balance
from dialer.campaigns.schemas import PacePublic
from dialer.config import ProviderLimits
from dialer.deps import ApiKeyDep, RuntimeDep
from dialer.pacing.service import Kind, account_limit
from dialer.runtime import Runtime

__all__ = ["ProviderPublic", "accounts_now", "router"]

PACED_KINDS: tuple[Kind, ...] = ("calls", "sms", "status")

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
    # Calls, SMS and status reads: each kind's limit as it stands now.
    pacing: list[PacePublic]


@router.get("")
async def list_providers(runtime: RuntimeDep, _key: ApiKeyDep) -> list[ProviderPublic]:
    return await accounts_now(runtime)


async def accounts_now(runtime: Runtime) -> list[ProviderPublic]:
    """Each configured provider account as it stands, its balance read now."""
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
                pacing=[
                    PacePublic.of(
                        await runtime.limiter.pace(account_limit(runtime.settings, name, kind))
                    )
                    for kind in PACED_KINDS
                ],
            )
        )
    return found
