"""The one-line action texts a DIN action server answers with, as Xoxzo documents them:

playback URL
transfer NUMBER [--caller=NUMBER]
say LANG "text"
voicemail playback URL | voicemail say LANG "text"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DinAction", "InvalidAction", "Playback", "Say", "Transfer", "Voicemail", "parse_action"]

LANGS = ("ja", "en")
_URL = r"http://[^\s\"]+"
_NUMBER = r"\+[1-9][0-9]{6,14}"
_PLAYBACK = re.compile(rf"^playback ({_URL})$")
_TRANSFER = re.compile(rf"^transfer ({_NUMBER})(?: --caller=({_NUMBER}))?$")
_SAY = re.compile(r'^say (ja|en) "([^"\r\n]*)"$')
_VOICEMAIL = re.compile(r"^voicemail (.+)$")


class InvalidAction(ValueError):
    pass


def _spoken(text: str) -> str:
    # The grammar has no escapes: a quote would end the text, a newline the answer.
    return " ".join(text.replace('"', "'").split())


@dataclass(frozen=True)
class Playback:
    url: str

    def line(self) -> str:
        return f"playback {self.url}"


@dataclass(frozen=True)
class Say:
    lang: str
    text: str

    def line(self) -> str:
        return f'say {self.lang} "{_spoken(self.text)}"'


@dataclass(frozen=True)
class Transfer:
    number: str
    caller: str | None = None

    def line(self) -> str:
        return f"transfer {self.number}" + (f" --caller={self.caller}" if self.caller else "")


@dataclass(frozen=True)
class Voicemail:
    greeting: Playback | Say

    def line(self) -> str:
        return f"voicemail {self.greeting.line()}"


DinAction = Playback | Say | Transfer | Voicemail


def _greeting(text: str) -> Playback | Say:
    action = parse_action(text)
    if not isinstance(action, Playback | Say):
        raise InvalidAction(f"a voicemail greeting is a playback or a say, not {text!r}")
    return action


def parse_action(line: str) -> DinAction:
    """The action in one answer line; InvalidAction says why a line is not in the grammar."""
    if "\n" in line.strip() or "\r" in line:
        raise InvalidAction("an action is one line")
    text = line.strip()
    if found := _PLAYBACK.match(text):
        return Playback(found.group(1))
    if found := _TRANSFER.match(text):
        return Transfer(found.group(1), found.group(2))
    if found := _SAY.match(text):
        return Say(found.group(1), found.group(2))
    if found := _VOICEMAIL.match(text):
        return Voicemail(_greeting(found.group(1)))
    raise InvalidAction(
        f"not an action: {text!r} (playback URL | transfer NUMBER [--caller=NUMBER] | "
        'say ja|en "text" | voicemail playback URL | voicemail say ja|en "text")'
    )
