from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dialer.serve import free_port, running_server
from tests.webhooks.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A receiver, and the URL of its events endpoint."""
    receiver = Receiver()
    port = free_port()
    async with running_server(receiver.app(), "127.0.0.1", port):
        yield receiver, f"http://127.0.0.1:{port}/events"
