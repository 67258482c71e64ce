"""Voxology's call-flow loop errors, as the reference lists them: what each code means, and
which ones say the account ran out of money. A call that ended with one of these was not what
we asked for, whatever its status says."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.terminal import printable

__all__ = ["FLOW_ERRORS", "FlowError", "describe_error"]


@dataclass(frozen=True)
class FlowError:
    code: int
    meaning: str
    # The account's balance ran out: the campaigns of that account wait for credit.
    out_of_credit: bool = False


def _table(*errors: FlowError) -> dict[int, FlowError]:
    return {error.code: error for error in errors}


_NON_2XX = "our call-flow endpoint answered a callback with a non-2XX status"
_NOT_JSON = "our call-flow answer did not contain JSON actions"
_TOO_BIG = "our call-flow answer exceeded the hard JSON callback limit of 81 KB"
_COMPILED = "our call-flow answer exceeded the compiled limit"

FLOW_ERRORS = _table(
    FlowError(1003, "the application or sub account of this number is deactivated"),
    FlowError(2001, "the account balance is $0.00", out_of_credit=True),
    FlowError(4001, "the request to our call-flow endpoint timed out"),
    FlowError(400900, f"{_NON_2XX} (inbound, before connecting)"),
    FlowError(400901, f"{_NON_2XX} (inbound, after connecting)"),
    FlowError(400902, f"{_NOT_JSON} (inbound)"),
    FlowError(400910, f"{_NON_2XX} (before connecting)"),
    FlowError(400911, f"{_NON_2XX} (the init_call callback)"),
    FlowError(400912, f"{_NON_2XX} (after the init_call callback)"),
    FlowError(400913, _NOT_JSON),
    FlowError(400931, "our call flow named a URL Voxology could not fetch (a PLAY audio file?)"),
    FlowError(413900, f"{_TOO_BIG} (inbound)"),
    FlowError(413910, _TOO_BIG),
    FlowError(413901, f"{_COMPILED} (inbound)"),
    FlowError(413911, _COMPILED),
)


def describe_error(code: int, detail: object = None) -> str:
    """`last_error` for a call or message that ended with `code`: the code, the reference's
    meaning, and the provider's own words when it gave some."""
    known = FLOW_ERRORS.get(code)
    text = f"voxology error {code}: {known.meaning if known else 'not in the reference'}"
    if detail:
        text += f" ({printable(detail)})"
    return text
