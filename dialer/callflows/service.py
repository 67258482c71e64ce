"""Answering Voxology's callback requests for our outbound calls: init_call gets the flow,
live_call the reply to the key pressed, end_call and failed_call close the attempt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts import rounds
from dialer.bounds import STORED
from dialer.callflows.keys import Answer, read_answer
from dialer.callflows.render import (
    ConferenceFlow,
    DetectFlow,
    FlowContext,
    Recording,
    SayFlow,
    Speech,
    render_flow,
    speech,
)
from dialer.errors import FieldError, Forbidden
from dialer.models import Notification, utcnow
from dialer.optouts.service import block_number
from dialer.providers.capabilities import capabilities_of
from dialer.providers.voxology import parse_call
from dialer.scheduling.policies import RetryPolicy
from dialer.security import verify_callback_token
from dialer.tracking.service import apply_report
from dialer.vocabulary import Channel, Outcome

__all__ = [
    "REPLIES",
    "FlowRefused",
    "FlowUnservable",
    "answer_callback",
    "check_flow_of",
    "flow_for",
]

REPLIES: dict[Answer, str] = {
    Answer.confirmed: "Thank you. Your confirmation has been recorded. Goodbye.",
    Answer.opted_out: "You will not receive these calls again. Goodbye.",
    Answer.none: "Goodbye.",
}


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


def flow_for(notification: Notification) -> FlowContext:
    if notification.channel is Channel.conference:
        lang = notification.lang or "en"
        return ConferenceFlow(
            name=f"dialer-{notification.id}",
            greeting=speech(CONFERENCE_GREETINGS[lang], lang),
            max_participants=len(notification.recipients),
        )
    if notification.recording_url:
        message: Speech | Recording = Recording(url=notification.recording_url)
    else:
        message = speech(notification.text or "", notification.lang)
    if notification.channel is Channel.voice_flow:
        # Retried on voicemail: hang up on the machine rather than leave the message.
        retried = RetryPolicy.model_validate(notification.policy, context=STORED).retry_on
        return DetectFlow(message=message, leave_voicemail=Outcome.voicemail not in retried)
    return SayFlow(message=message)


def check_flow_of(notification: Notification) -> None:
    """Render a Voxology call's flow as its init_call will; raises InvalidFlow (or pydantic's
    ValidationError, both ValueErrors) with what is wrong."""
    if capabilities_of(notification.provider).call_flows:
        render_flow(flow_for(notification))


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
    report = parse_call(body)
    kind = body.get("type")
    answer = read_answer(body.get("key_presses"))
    if answer is not Answer.none and attempt.answer is None:
        attempt.answer = notification.answer = answer.value
    # Authenticated as this call's own callback: an opt-out counts even if it comes late.
    if answer is Answer.opted_out:
        await block_number(
            session, notification.to_number, source="keypress", reason="pressed 9 during a call"
        )
    await apply_report(session, round_, report, utcnow(), poll_interval_s)
    if kind == "init_call":
        try:
            return render_flow(flow_for(notification)).flow
        except ValueError as exc:  # InvalidFlow, or pydantic's ValidationError
            # Checked before the call was placed, so only a row changed since gets here.
            raise FlowUnservable(f"the flow of attempt {attempt_id} is invalid: {exc}") from exc
    if kind == "live_call":
        return render_flow(SayFlow(message=Speech(text=REPLIES[answer]))).flow
    return {}
