from __future__ import annotations

import pytest

from dialer.templating import TemplateProblem, render_file, render_text


def test_renders_variables() -> None:
    assert render_text(
        "Hello {{ name }}, see you at {{ time }}.", {"name": "Aiko", "time": "3pm"}
    ) == ("Hello Aiko, see you at 3pm.")


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("Hello {{ nme }}", "'nme' is undefined"),
        ("{{ name.__class__.__mro__ }}", "unsafe"),
        ("{{ ''.__class__.__subclasses__() }}", "unsafe"),
        ("{% if %}", "Expected an expression"),
    ],
)
def test_missing_variables_unsafe_access_and_bad_syntax_are_refused(
    source: str, words: str
) -> None:
    with pytest.raises(TemplateProblem, match=words):
        render_text(source, {"name": "Aiko"})


def test_no_html_escaping_in_spoken_text() -> None:
    assert render_text("{{ t }}", {"t": "Tom & Jerry <3"}) == "Tom & Jerry <3"


def test_the_demo_template_renders_from_templates_dir() -> None:
    text = render_file("tts/demo.txt.j2", {"number": 3, "total": 20, "name": "Aiko"})
    assert text == "This is dialer demo message 3 of 20, for Aiko. Have a good day."
    with pytest.raises(TemplateProblem, match="'total' is undefined"):
        render_file("tts/demo.txt.j2", {"number": 3, "name": "Aiko"})


def test_reading_a_templates_variables_never_runs_its_filters() -> None:
    # Jinja2 folds constant filters while compiling; reading the variables compiles.
    from dialer.templating import template_variables

    assert template_variables("{{ 'a'|center(900000000) }}{{ name }}") == {"name"}
    assert template_variables("{{ 'x'|wordwrap(5)|truncate(3) }}{% if 3 is odd %}{% endif %}") == (
        frozenset()
    )


def test_filters_and_tests_still_work_when_rendering() -> None:
    text = render_text(
        "{{ names|join(', ') }} {{ x|upper }} {{ 3 is odd }} {{ items|map('upper')|join }}",
        {"names": ["a", "b"], "x": "y", "items": ["p", "q"]},
    )
    assert text == "a, b Y True PQ"
