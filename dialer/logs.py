"""How the dialer's processes log: one line per thing that matters (a process starting, an
attempt moving, a provider error, a refused callback, a campaign changing state, a webhook not
taken), nothing per idle tick; as text, or as one JSON object per line with stable keys: `ts`,
`level`, `logger`, `message`, then the event's own fields (`notification_id`, `attempt_id`,
`provider`, `provider_id`, `status`, `outcome`, `campaign_id`, ...)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.engine import make_url

from dialer.config import Settings

__all__ = ["FORMATS", "Format", "JsonLines", "configure", "fields", "settings_summary"]

FORMATS = ("text", "json")
Format = Literal["text", "json"]

# Loggers that speak per job or per request: arq logs each job's start and end (the hopper and
# the other crons tick every second or few), uvicorn each request, httpx each provider call,
# alembic each step of every (even empty) upgrade.
_CHATTY = ("arq", "uvicorn.access", "httpx", "httpcore", "alembic")


def fields(**values: Any) -> dict[str, Any]:
    """`extra=` for a log call: the event's fields, for the JSON lines."""
    return {"fields": values}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(log_format: Format = "text", *, verbose: bool = False) -> None:
    """INFO for the dialer's own loggers; `verbose` adds every job and request."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


def settings_summary(settings: Settings) -> dict[str, Any]:
    """What a process says about itself as it starts; never a secret."""
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    providers = {"xoxzo": settings.xoxzo_api_url}
    if settings.voxology_api_key is not None:
        providers["voxology"] = settings.voxology_api_url
    return {
        "env": settings.env,
        "public_url": settings.public_url,
        "database": database,
        "redis": "embedded" if not settings.redis_url else _hide_password(settings.redis_url),
        "providers": providers,
    }


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, at, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***{at}{host}"
