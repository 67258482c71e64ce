"""An API notification's SMS fallback: a text when the calls end unanswered, as one more
attempt of the same notification."""

from __future__ import annotations

from typing import Any

from dialer.serve import running_worker
from tests.support import Harness

CALL: dict[str, Any] = {"channel": "tts", "from": "+81312345678", "text": "Hello", "lang": "en"}


async def test_an_unanswered_call_is_followed_by_its_text(harness: Harness) -> None:
    fallback = {"text": "We called about your parcel.", "on": ["no_answer"]}
    # Last digit 7: nobody answers; 0: answered, so no text.
    missed = await harness.notify("+819012345677", sms_fallback=fallback)
    answered = await harness.notify("+819012345670", sms_fallback=fallback)
    async with running_worker(harness.settings, harness.redis_url):
        missed_body = await harness.wait_final(missed["id"])
        answered_body = await harness.wait_final(answered["id"])
    assert (missed_body["status"], missed_body["attempts_made"]) == ("delivered", 2)
    assert [(a["channel"], a["outcome"]) for a in missed_body["attempts"]] == [
        (None, "no_answer"),
        ("sms", "delivered"),
    ]
    texts = [(m.recipient, m.message) for m in harness.sandbox.messages.values()]
    assert texts == [("+819012345677", "We called about your parcel.")]
    assert [a["channel"] for a in answered_body["attempts"]] == [None]


async def test_a_fallback_the_request_cannot_have_is_422(harness: Harness) -> None:
    for body, says in [
        (
            {**CALL, "channel": "sms", "lang": None, "sms_fallback": {"text": "x"}},
            "sms_fallback follows a call",
        ),
        ({**CALL, "policy": {"fallback_on": ["no_answer"]}}, "needs sms_fallback"),
        ({**CALL, "sms_fallback": {"text": "x", "on": ["answered"]}}, "Input should be"),
        ({**CALL, "sms_fallback": {"text": ""}}, "at least 1 character"),
    ]:
        body = {k: v for k, v in body.items() if v is not None}
        answer = await harness.api.post("/v1/notifications", json={"to": "+819012345670", **body})
        assert answer.status_code == 422, body
        assert says in answer.text, answer.text
