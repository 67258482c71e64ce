"""Schemathesis against our own OpenAPI, over real HTTP with every check but one: no server
error, every status documented, every body as its schema says, auth never ignored. Data is
seeded first so that id 1 of each resource exists and operations get past their 404s.

positive_data_acceptance is left out: it expects every schema-valid body to be accepted, and
some rules are not JSON Schema (a phone number must be a real one, channel and template must
agree); those answer 422 naming the field, which the other checks hold to its schema."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from tests.support import Harness

MAX_EXAMPLES = 25


async def _seed(harness: Harness, receiver_url: str) -> None:
    endpoint = await harness.api.post("/v1/webhooks", json={"url": receiver_url})
    assert endpoint.status_code == 201, endpoint.text
    created = await harness.api.post(
        "/v1/campaigns",
        json={"name": "seed", "channel": "sms", "from": "DIALER", "template": "Hi {{ name }}"},
    )
    assert created.status_code == 201, created.text
    rows = "phone,name\n090-1234-5670,A\n12,B\n"
    upload = await harness.api.post(
        "/v1/campaigns/1/contacts", files={"file": ("c.csv", rows.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    notified = await harness.notify("+819012345671", webhook_url=receiver_url)
    await harness.api.post(f"/v1/notifications/{notified['id']}/cancel")
    await harness.api.post("/v1/do-not-contact", json={"number": "+819012345672"})


@pytest.mark.timeout(900)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_schemathesis_finds_no_server_error_and_nothing_undocumented(
    harness: Harness, tmp_path: Path
) -> None:
    # Nobody listens there: its events wait to be delivered, which is all the seed needs.
    await _seed(harness, "http://127.0.0.1:9/events")
    schemathesis = Path(sys.executable).with_name("schemathesis")
    process = await asyncio.create_subprocess_exec(
        str(schemathesis),
        "run",
        f"{harness.api.base_url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261202",
        "--generation-database",
        "none",
        "--header",
        f"Authorization: Bearer {harness.api_key}",
        "--no-color",
        "--request-timeout",
        "30",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
    found = re.search(r"(\d+) generated, (\d+) passed", text)
    assert found is not None and int(found.group(1)) > 1000, text[-3000:]
    assert found.group(1) == found.group(2)
