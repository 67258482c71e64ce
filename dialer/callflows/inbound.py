"""Answering people who call one of our Voxology numbers: never refused. The last message we
called them with from that number, else the number's own action, else the service default (as
a Xoxzo DIN's action server answers; dialer.din.service.inbound_action)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.din.actions import DinAction, Playback, Say, Transfer, Voicemail, parse_action
from dialer.din.service import inbound_action
from dialer.flows.render import (
    FlowContext,
    Recording,
    SayFlow,
    TransferFlow,
    render_flow,
    speech,
)
from dialer.models import NumberAction, utcnow
from dialer.phone import InvalidNumber, to_e164

__all__ = ["answer_inbound", "flow_of_action", "number_action", "set_number_action"]

log = logging.getLogger(__name__)


async def number_action(session: AsyncSession, number: str) -> NumberAction | None:
    """The number's own action, if it has one."""
    found = await session.exec(select(NumberAction).where(NumberAction.number == number))
    return found.first()


async def set_number_action(session: AsyncSession, number: str, action: str | None) -> None:
    """Set (or, with None, clear) what the number answers callers we never called."""
    row = await number_action(session, number)
    if action is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(NumberAction(number=number, action=action))
    else:
        row.action, row.updated_at = action, utcnow()


def flow_of_action(action: DinAction) -> FlowContext:
    if isinstance(action, Transfer):
        return TransferFlow(to=action.number, caller_id=action.caller)
    # A voicemail box needs recording, which we do not keep: its greeting is played.
    shown = action.greeting if isinstance(action, Voicemail) else action
    if isinstance(shown, Playback):
        return SayFlow(message=Recording(url=shown.url))
    assert isinstance(shown, Say)
    return SayFlow(message=speech(shown.text, shown.lang))


async def answer_inbound(
    session: AsyncSession, body: Mapping[str, Any], default_action: str, default_region: str
) -> dict[str, Any]:
    """The flow for a call someone made to one of our numbers; a HANGUP for a live_call (its
    flow has run out), {} for its end."""
    if body.get("type") == "live_call":
        return {"actions": [{"type": "HANGUP"}]}
    if body.get("type") != "init_call":
        return {}
    ours = str(body.get("api_no") or "")[:20]
    try:
        caller: str | None = to_e164(str(body.get("caller_no") or ""), default_region)
    except InvalidNumber:
        caller = None  # a withheld or odd number: no message of ours to play again
    own = await number_action(session, ours)
    action = await inbound_action(
        session, ours, caller, own.action if own else None, default_action
    )
    try:
        return render_flow(flow_of_action(action)).flow
    except ValueError as exc:  # a message of ours Voxology could not say (an empty text, say)
        log.warning("call %s to %s: %s; the default answers", body.get("call_id"), ours, exc)
        return render_flow(flow_of_action(parse_action(default_action))).flow
