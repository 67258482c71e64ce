"""The FastAPI application: the REST API, the provider callbacks and the operator console."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from dialer import __version__
from dialer.audio.api import files_router as audio_files_router
from dialer.audio.api import router as audio_router
from dialer.callflows.api import numbers_router
from dialer.callflows.api import router as flows_router
from dialer.campaigns.accounts import router as providers_router
from dialer.campaigns.api import router as campaigns_router
from dialer.config import Settings, get_settings
from dialer.console.site import install_console
from dialer.db import read_scope, session_scope
from dialer.deps import RuntimeDep
from dialer.din.api import action_router as din_action_router
from dialer.din.api import router as din_router
from dialer.errors import install_error_handler
from dialer.guard import RequestGuard
from dialer.health import read_database_gauges, readiness
from dialer.models import utcnow
from dialer.notifications.api import reminders_router
from dialer.notifications.api import router as notifications_router
from dialer.optouts.api import campaign_router as campaign_optouts_router
from dialer.optouts.api import export_router as optouts_export_router
from dialer.optouts.api import router as optouts_router
from dialer.responses import AllowedMethods, document_errors, problems
from dialer.runtime import Runtime
from dialer.startup import INSTANCE_HEADER, public_url_problem
from dialer.tracking.api import router as callbacks_router
from dialer.webhooks.api import events_router as webhook_events_router
from dialer.webhooks.api import router as webhooks_router

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "static"

log = logging.getLogger(__name__)


async def _check_public_url(settings: Settings, instance: str) -> None:
    problem = await public_url_problem(settings, instance)
    if problem is not None:
        log.warning("%s", problem)


def create_app(settings: Settings | None = None, redis_url: str | None = None) -> FastAPI:
    """The app; `redis_url` overrides DIALER_REDIS_URL (the embedded server's socket)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings or get_settings()
        url = redis_url or resolved.redis_url
        if url is None:
            raise RuntimeError("no Redis: set DIALER_REDIS_URL or start with `dialer up`")
        runtime = await Runtime.open(resolved, url)
        app.state.runtime = runtime
        checked = asyncio.create_task(_check_public_url(resolved, instance))
        try:
            yield
        finally:
            checked.cancel()
            await runtime.close()

    # Names this process in /healthz, so that it can tell whether its public URL reaches it.
    instance = secrets.token_hex(8)
    # /docs with Swagger UI's own files, vendored (dialer/static/swagger-ui): nothing is
    # fetched from a CDN, so the page works on a host with no internet. No /redoc.
    app = FastAPI(
        title="dialer", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="dialer API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )

    limits = settings or get_settings()
    app.add_middleware(
        RequestGuard,
        max_body_bytes=limits.max_body_bytes,
        max_upload_bytes=limits.max_upload_bytes,
    )
    app.include_router(notifications_router)
    app.include_router(reminders_router)
    app.include_router(campaigns_router)
    app.include_router(callbacks_router)
    app.include_router(flows_router)
    app.include_router(din_router, responses=problems(402, 502, 503))
    app.include_router(optouts_router)
    app.include_router(optouts_export_router)
    app.include_router(campaign_optouts_router)
    app.include_router(din_action_router)
    app.include_router(webhooks_router)
    app.include_router(webhook_events_router)
    app.include_router(providers_router)
    app.include_router(numbers_router)
    app.include_router(audio_router)
    app.include_router(audio_files_router)

    document_errors(app)
    install_error_handler(app)
    install_console(app)
    app.add_middleware(AllowedMethods, api=app)

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    async def metrics(runtime: RuntimeDep) -> Response:
        """Prometheus text: this process's figures (with `up`, its workers' too), and what only
        the database knows. Each worker process started alone serves its own on
        DIALER_METRICS_PORT."""
        async with read_scope(runtime.sessions) as session:
            await read_database_gauges(session, utcnow())
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get(
        "/readyz",
        tags=["health"],
        responses={503: {"description": "Not ready: the database or Redis, and why"}},
    )
    async def readyz(runtime: RuntimeDep, response: Response) -> dict[str, str]:
        """200 once the database answers at the migrations' head and Redis answers; else 503
        and what is not ready."""
        checks = await readiness(runtime)
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", **checks}

    @app.get("/healthz", tags=["health"])
    async def healthz(runtime: RuntimeDep, response: Response) -> dict[str, str]:
        response.headers[INSTANCE_HEADER] = instance
        async with session_scope(runtime.sessions) as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        await runtime.redis.ping()
        return {"status": "ok"}

    return app
