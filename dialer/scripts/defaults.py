"""The script of a Voxology call with detection that brings none of its own: the message, then
"press 1 to confirm, 9 to stop these calls", in English or Japanese."""

from __future__ import annotations

from typing import Any

from dialer.scripts.schemas import Script

__all__ = ["CONFIRM", "DEFAULT_TEXTS", "default_script"]

# The question's name: answers are recorded under it (and `answer` is its label).
CONFIRM = "confirm"

DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "prompt": "Press 1 to confirm. Press 9 to stop these calls.",
        "thanks": "Thank you. Your confirmation has been recorded. Goodbye.",
        "opted_out": "You will not receive these calls again. Goodbye.",
        "goodbye": "Goodbye.",
    },
    "ja": {
        "prompt": "確認された方は1を、今後このお電話が不要な方は9を押してください。",
        "thanks": "ありがとうございました。確認を承りました。失礼いたします。",
        "opted_out": "今後このお電話はおかけしません。失礼いたします。",
        "goodbye": "失礼いたします。",
    },
}


def default_script(
    *, text: str | None, recording_url: str | None, lang: str | None, voicemail: bool = True
) -> Script:
    """The message (`text` said, or `recording_url` played) and the confirm question; a machine
    is left the message itself unless `voicemail` is False."""
    lang = lang if lang in DEFAULT_TEXTS else "en"
    texts = DEFAULT_TEXTS[lang]
    message: dict[str, Any] = {"play": recording_url} if recording_url else {"say": text}
    script: dict[str, Any] = {
        "start": "message",
        "lang": lang,
        "steps": {
            "message": {**message, "next": CONFIRM},
            CONFIRM: {
                "ask": texts["prompt"],
                "keys": {
                    "1": {"label": "confirmed", "next": "thanks"},
                    "9": {"label": "opted_out", "next": "opted_out"},
                },
                "no_input": {"repeat": 0, "next": "goodbye"},
            },
            "thanks": {"say": texts["thanks"], "hangup": True},
            "opted_out": {"say": texts["opted_out"], "opt_out": True},
            "goodbye": {"say": texts["goodbye"], "hangup": True},
        },
    }
    if voicemail:
        script["voicemail"] = message
    return Script.model_validate(script)
