from __future__ import annotations

import pytest

from dialer.models import Channel
from dialer.providers import CHANNELS_BY_PROVIDER, channel_refusal


@pytest.mark.parametrize("channel", list(Channel))
def test_xoxzo_carries_every_channel_built_so_far(channel: Channel) -> None:
    assert channel_refusal("xoxzo", channel) is None
    assert channel in CHANNELS_BY_PROVIDER["xoxzo"]


def test_voxology_carries_sms_and_refuses_calls_until_its_call_flow_endpoint_exists() -> None:
    assert channel_refusal("voxology", Channel.sms) is None
    assert channel_refusal("voxology", Channel.tts) == (
        "provider 'voxology' has no channel 'tts' (it has: sms)"
    )


def test_unknown_provider() -> None:
    assert channel_refusal("twilio", Channel.sms) == "unknown provider 'twilio'"
