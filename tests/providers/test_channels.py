from __future__ import annotations

import pytest

from dialer.providers import channel_refusal
from dialer.providers.capabilities import capabilities_of
from dialer.vocabulary import Channel


@pytest.mark.parametrize("channel", [Channel.tts, Channel.playback, Channel.sms])
def test_xoxzo_carries_its_calls_and_sms(channel: Channel) -> None:
    assert channel_refusal("xoxzo", channel) is None
    assert channel in capabilities_of("xoxzo").channels


def test_detection_flows_are_voxology_only() -> None:
    assert channel_refusal("voxology", Channel.voice_flow) is None
    assert channel_refusal("xoxzo", Channel.voice_flow) == (
        "provider 'xoxzo' has no channel 'voice_flow' (it has: conference, playback, sms, tts)"
    )


@pytest.mark.parametrize("channel", [Channel.tts, Channel.playback, Channel.sms])
def test_voxology_carries_calls_as_flows_and_sms(channel: Channel) -> None:
    assert channel_refusal("voxology", channel) is None


def test_unknown_provider() -> None:
    assert channel_refusal("twilio", Channel.sms) == "unknown provider 'twilio'"
