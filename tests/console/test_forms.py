"""The new-campaign form turned into the API's body: every rule is the API's own, and whatever
the form sends, the answer is a body or errors by field, never a crash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.console.forms import RETRIED, campaign_body, checked_body, read_form
from dialer.errors import FieldErrors

FIELDS = {
    "name": "健診のご案内",
    "provider": "xoxzo",
    "channel": "tts",
    "from": "+81312345678",
    "template": "{{ 氏名 }}様",
    "window_start": "08:30",
    "window_end": "18:00",
    "timezone": "Asia/Tokyo",
    "holidays": "2026-12-31\n\n2027-01-01\n",
    "max_attempts": "2",
    "retry_no_answer_min": "15",
}


def test_a_filled_in_form_is_the_body_the_api_takes() -> None:
    values = read_form(FIELDS, ["0", "1", "2", "3", "4"], ["no_answer"])
    body = checked_body(values)
    assert body.name == "健診のご案内" and body.template == "{{ 氏名 }}様"
    assert body.schedule.weekdays == [0, 1, 2, 3, 4]
    assert [str(d) for d in body.schedule.holidays] == ["2026-12-31", "2027-01-01"]
    assert body.schedule.timezone == "Asia/Tokyo"
    assert body.policy.max_attempts == 2
    assert {k: v.delay_s for k, v in body.policy.retry.items()} == {"no_answer": 900}
    assert body.policy.sms_fallback is None


def test_an_sms_fallback_is_taken_only_when_ticked() -> None:
    fields = {**FIELDS, "fallback_template": "お電話がつながりませんでした"}
    assert campaign_body(read_form(fields, ["0"], []))["policy"].get("sms_fallback") is None
    ticked = checked_body(read_form({**fields, "sms_fallback": "yes"}, ["0"], []))
    assert ticked.policy.sms_fallback is not None
    assert ticked.policy.sms_fallback.template == "お電話がつながりませんでした"


_text = st.text(max_size=40)
_form = st.fixed_dictionaries(
    {},
    optional={
        name: st.one_of(
            _text,
            st.integers().map(str),
            st.floats().map(str),
            st.sampled_from(["1e308", "-0", "nan", "inf", "  3  ", "２"]),
            st.none(),
        )
        for name in [
            *FIELDS,
            *(f"retry_{outcome}_min" for outcome in RETRIED),
            "recording_url",
            "lang",
            "max_rate",
            "fallback_template",
            "sms_fallback",
        ]
    },
)


@given(
    _form,
    st.lists(st.one_of(st.sampled_from([str(d) for d in range(7)]), _text), max_size=9),
    st.lists(st.one_of(st.sampled_from(list(RETRIED)), _text), max_size=4),
)
def test_any_form_is_a_body_or_errors_by_field(
    form: dict[str, str | None], weekdays: list[str], retried: list[str]
) -> None:
    values = read_form({**FIELDS, **form}, weekdays, retried)
    try:
        checked_body(values)
    except FieldErrors as exc:
        assert exc.errors and all(e.message for e in exc.errors)
