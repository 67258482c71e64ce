"""Whether a script can be played by a provider on a channel, checked before any call: on
Voxology every flow it can answer a callback with; elsewhere, as one message."""

from __future__ import annotations

from dialer.flows.scripted import check_script
from dialer.providers.capabilities import capabilities_of
from dialer.scripts.schemas import Script
from dialer.scripts.single import OneMessage, one_message
from dialer.vocabulary import Channel

__all__ = ["SCRIPT_CHANNELS", "script_placement"]

# Voxology channels a script runs on: with answering-machine detection, and without.
SCRIPT_CHANNELS = (Channel.voice_flow, Channel.tts)


def script_placement(
    provider: str,
    channel: Channel,
    script: Script,
    lang: str | None,
    *,
    leave_voicemail: bool = True,
) -> Script | OneMessage:
    """The script as it will be played: itself where the provider runs call flows, else the
    one message it makes. ValueError naming the step and field of whatever would not play."""
    if capabilities_of(provider).call_flows:
        if channel not in SCRIPT_CHANNELS:
            raise ValueError(f"a script is for channel voice_flow or tts, not {channel.value}")
        if script.voicemail is not None and channel is not Channel.voice_flow:
            raise ValueError("script.voicemail needs channel voice_flow (machine detection)")
        checked = check_script(
            script, lang=lang, detect=channel is Channel.voice_flow, leave_voicemail=leave_voicemail
        )
        if checked.problems:
            raise ValueError("script: " + "; ".join(checked.problems))
        return script
    message = one_message(script)
    wanted = Channel.playback if message.recording_url else Channel.tts
    if channel is not wanted:
        raise ValueError(f"this script makes one {wanted.value} call: channel {wanted.value}")
    return message
