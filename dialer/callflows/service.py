"""Answering Voxology's callback requests for our outbound calls: init_call gets the flow,
live_call the reply to the key pressed, end_call and failed_call close the attempt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts import rounds
from dialer.bounds import STORED
from dialer.callflows.keys import read_presses
from dialer.errors import FieldError, Forbidden
from dialer.flows.render import (
    ConferenceFlow,
    FlowContext,
    Recording,
    SayFlow,
    render_flow,
    speech,
)
from dialer.flows.scripted import SAMPLE_SESSION, TRANSFER_EVENT, check_script, script_flow
from dialer.flows.validate import InvalidFlow
from dialer.models import Attempt, Notification, utcnow
from dialer.optouts.service import block_number
from dialer.providers import fields
from dialer.providers.capabilities import capabilities_of
from dialer.providers.voxology import parse_call
from dialer.scheduling.policies import RetryPolicy
from dialer.scripts.defaults import default_script
from dialer.scripts.schemas import Script
from dialer.scripts.walk import Walk, walk
from dialer.security import verify_callback_token
from dialer.tracking.service import apply_report
from dialer.vocabulary import Channel, Outcome

__all__ = [
    "FlowRefused",
    "FlowUnservable",
    "answer_callback",
    "check_flow_of",
    "script_of",
]

# What a call keeps in its session_data besides where it is in its script.
_SESSION_KEYS = ("attempt_id", "token", "tag")


class FlowRefused(Forbidden):
    """A callback request that is not for one of our attempts, or not authentic."""


class FlowUnservable(FieldError):
    """Our own flow for the call cannot be rendered; Voxology ends the call with its error."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)


# Spoken to each participant before they join.
CONFERENCE_GREETINGS = {
    "en": "Connecting you to your conference call.",
    "ja": "電話会議に接続します。",
}


def _leaves_voicemail(notification: Notification) -> bool:
    # Retried on voicemail: hang up on the machine rather than leave the message.
    retried = RetryPolicy.model_validate(notification.policy, context=STORED).retry_on
    return Outcome.voicemail not in retried


def script_of(notification: Notification) -> Script | None:
    """The script a Voxology call plays: its own, or for a call with detection the default one
    (the message, then confirm or opt out); None for a call that only plays its message."""
    if notification.script is not None:
        return Script.model_validate(notification.script)
    if notification.channel is Channel.voice_flow:
        return default_script(
            text=notification.text, recording_url=notification.recording_url, lang=notification.lang
        )
    return None


def _plain_flow(notification: Notification) -> FlowContext:
    if notification.channel is Channel.conference:
        lang = notification.lang or "en"
        return ConferenceFlow(
            name=f"dialer-{notification.id}",
            greeting=speech(CONFERENCE_GREETINGS[lang], lang),
            max_participants=len(notification.recipients),
        )
    if notification.recording_url:
        return SayFlow(message=Recording(url=notification.recording_url))
    return SayFlow(message=speech(notification.text or "", notification.lang))


def _first_flow(
    notification: Notification, script: Script | None, session: Mapping[str, Any]
) -> dict[str, Any]:
    """The flow init_call gets (`script`: the call's, script_of); raises InvalidFlow (or
    pydantic's ValidationError, both ValueErrors) with what is wrong."""
    if script is None:
        return render_flow(_plain_flow(notification)).flow
    start = walk(script, {}, None)
    return script_flow(
        script,
        start.resume,
        start.visits,
        session,
        lang=notification.lang,
        detect=notification.channel is Channel.voice_flow,
        leave_voicemail=_leaves_voicemail(notification),
    ).flow


def check_flow_of(notification: Notification) -> None:
    """Render a Voxology call's flows as its callbacks will: every flow of a script of its own,
    else the one its init_call gets (the default script's other flows are texts of ours).
    Raises InvalidFlow (or pydantic's ValidationError, both ValueErrors) with what is wrong."""
    if not capabilities_of(notification.provider).call_flows:
        return
    if notification.script is None:
        _first_flow(notification, script_of(notification), SAMPLE_SESSION)
        return
    checked = check_script(
        Script.model_validate(notification.script),
        lang=notification.lang,
        detect=notification.channel is Channel.voice_flow,
        leave_voicemail=_leaves_voicemail(notification),
    )
    if checked.problems:
        raise InvalidFlow(checked.problems)


def _record_walk(attempt: Attempt, notification: Notification, done: Walk, script: Script) -> None:
    if done.answers and done.answers != (attempt.answers or {}):
        attempt.answers = notification.answers = dict(done.answers)
        attempt.answer = notification.answer = done.first
    if done.transfers:
        attempt.transferred_to = script.steps[done.transfers[-1]].transfer


def _time_transfer(attempt: Attempt, body: Mapping[str, Any], *, started: bool) -> None:
    """A transfer's start (the call's length as its WEBHOOK fired), or its seconds once the
    call comes back from it or ends."""
    length_ms = fields.integer(body.get("duration"), "duration", high=fields.MAX_SECONDS * 1000)
    if length_ms is None:
        return
    if started:
        if attempt.transfer_start_ms is None:
            attempt.transfer_start_ms = length_ms
    elif attempt.transfer_start_ms is not None and attempt.transfer_s is None:
        attempt.transfer_s = max(0, (length_ms - attempt.transfer_start_ms) // 1000)


async def answer_callback(
    session: AsyncSession, body: Mapping[str, Any], secret_key: str, poll_interval_s: float
) -> dict[str, Any]:
    """The JSON to answer one callback request with: a flow, or {} once the call is over."""
    data = body.get("session_data") or {}
    try:
        attempt_id, token = int(data["attempt_id"]), str(data["token"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FlowRefused("session_data does not name one of our attempts") from exc
    if not verify_callback_token(secret_key, "voxology", attempt_id, token):
        raise FlowRefused("bad attempt token")
    round_ = await rounds.load(session, [attempt_id])
    if round_ is None or not capabilities_of(round_.attempts[0].provider).call_flows:
        raise FlowRefused(f"no Voxology attempt {attempt_id}")
    attempt, notification = round_.attempts[0], round_.notification
    # Every field read before anything changes: a malformed one refuses the whole callback.
    kept = {k: data[k] for k in _SESSION_KEYS if k in data}
    at = data.get("at")
    if at is not None and not isinstance(at, str):
        raise FieldError("session_data.at", "not one of our marks")
    kind = body.get("type")
    if str(body.get("is_webhook")).lower() == "true":
        if body.get("event_name") == TRANSFER_EVENT:
            _time_transfer(attempt, body, started=True)
        return {}
    report = parse_call(body)
    presses = read_presses(body.get("key_presses"))
    try:
        script = script_of(notification)
    except ValueError as exc:
        raise FlowUnservable(f"the script of attempt {attempt_id} is invalid: {exc}") from exc
    done: Walk | None = None
    if script is not None:
        done = walk(script, presses, None if kind == "init_call" else at)
        _record_walk(attempt, notification, done, script)
        if done.transfers and kind != "init_call":
            _time_transfer(attempt, body, started=False)
        # Authenticated as this call's own callback: an opt-out counts even if it comes late.
        if done.opted_out:
            await block_number(
                session,
                notification.to_number,
                source="keypress",
                reason="pressed a key to opt out during a call",
            )
    await apply_report(session, round_, report, utcnow(), poll_interval_s)
    try:
        if kind == "init_call":
            return _first_flow(notification, script, kept)
        if kind == "live_call" and script is not None and done is not None:
            if done.lost:
                return {"actions": [{"type": "HANGUP"}]}
            return script_flow(script, done.resume, done.visits, kept, lang=notification.lang).flow
    except ValueError as exc:  # InvalidFlow, or pydantic's ValidationError
        # Checked before the call was placed, so only a row changed since gets here.
        raise FlowUnservable(f"the flow of attempt {attempt_id} is invalid: {exc}") from exc
    if kind == "live_call":
        return {"actions": [{"type": "HANGUP"}]}
    return {}
