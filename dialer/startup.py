"""What a process checks as it starts, so that a wrong setting is said at once rather than
found later as calls that fail in silence: the sandbox's placeholder credentials sent to a real
provider, and a public URL (where providers post their callbacks) that does not reach us."""

from __future__ import annotations

import asyncio
import logging

import httpx

from dialer.config import PLACEHOLDER_SECRETS, Settings

__all__ = ["INSTANCE_HEADER", "public_url_problem", "serving_url", "startup_warnings"]

log = logging.getLogger(__name__)

# /healthz names the process that answered, so a process can tell its public URL reaches it.
INSTANCE_HEADER = "X-Dialer-Instance"

_LOCAL_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}


def _real_url(settings: Settings, field: str) -> bool:
    return bool(getattr(settings, field) == Settings.model_fields[field].default)


def startup_warnings(settings: Settings) -> list[str]:
    """Settings that cannot work: placeholder credentials towards the real provider. (In
    production placeholders are refused outright, by Settings itself.)"""
    found = []
    token = settings.xoxzo_auth_token.get_secret_value()
    if _real_url(settings, "xoxzo_api_url") and (
        settings.xoxzo_sid in PLACEHOLDER_SECRETS or token in PLACEHOLDER_SECRETS
    ):
        found.append(
            f"XOXZO_SID / XOXZO_AUTH_TOKEN are the sandbox's placeholders, but XOXZO_API_URL is "
            f"Xoxzo itself ({settings.xoxzo_api_url}): every Xoxzo request will be refused. Set "
            "XOXZO_API_URL to a sandbox (`dialer sandbox`), or set your real credentials."
        )
    key = settings.voxology_api_key.get_secret_value() if settings.voxology_api_key else None
    if key is not None and key in PLACEHOLDER_SECRETS and _real_url(settings, "voxology_api_url"):
        found.append(
            f"VOXOLOGY_API_KEY is the sandbox's placeholder, but VOXOLOGY_API_URL is Voxology "
            f"itself ({settings.voxology_api_url}): every Voxology request will be refused."
        )
    return found


def serving_url(settings: Settings, host: str, port: int) -> Settings:
    """The settings with DIALER_PUBLIC_URL following the address this process serves on, unless
    it was set: callbacks then reach a process started on any port."""
    if "public_url" in settings.model_fields_set:
        return settings
    shown = _LOCAL_HOSTS.get(host, host)
    return settings.model_copy(update={"public_url": f"http://{shown}:{port}"})


async def public_url_problem(
    settings: Settings, instance: str, *, tries: int = 20, pause_s: float = 0.25
) -> str | None:
    """Why DIALER_PUBLIC_URL does not reach this process (asked once it serves), or None."""
    url = f"{settings.public_url.rstrip('/')}/healthz"
    answer: httpx.Response | None = None
    problem = "no answer"
    async with httpx.AsyncClient(timeout=3.0) as client:
        for _ in range(tries):
            try:
                answer = await client.get(url)
                break
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                await asyncio.sleep(pause_s)
    if answer is None:
        return f"DIALER_PUBLIC_URL {settings.public_url} does not reach this process ({problem})"
    answered_by = answer.headers.get(INSTANCE_HEADER)
    if answered_by is None:
        return (
            f"DIALER_PUBLIC_URL {settings.public_url} reaches a server that is not the dialer "
            f"(HTTP {answer.status_code}): provider callbacks will not arrive"
        )
    if answered_by != instance:
        log.info("DIALER_PUBLIC_URL reaches another dialer web process (a load balancer?)")
    return None
