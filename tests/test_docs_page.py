"""/docs works on a host with no internet: Swagger UI's files are ours, served by us."""

from __future__ import annotations

import re

import httpx

from tests.support import Harness


async def test_the_api_docs_load_nothing_from_elsewhere(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as anonymous:
        page = await anonymous.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/static/swagger-ui/") for s in sources), sources
        assert "cdn" not in page.text and "https://" not in page.text
        for source in sources:
            asset = await anonymous.get(source)
            assert asset.status_code == 200 and len(asset.content) > 100, source
        assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
        assert (await anonymous.get("/redoc")).status_code == 404
