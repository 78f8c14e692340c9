"""Button payloads encode themselves, and a press is decoded into the same payload or None."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.payloads import (
    AccessDecision,
    AnswerFeedback,
    EnrolChoice,
    ForgetConfirm,
    LessonDone,
    LessonQuiz,
    Payload,
    QuizAnswer,
    QuizSubmit,
    QuizToggle,
    SettingChoice,
    SurveyRating,
    decode,
)

EXAMPLES: list[tuple[Payload, str]] = [
    (QuizAnswer(12, "b"), "qa:12:b"),
    (QuizToggle(12, "c"), "qt:12:c"),
    (QuizSubmit(12), "qs:12"),
    (LessonDone(7), "lg:7"),
    (LessonQuiz(7), "lq:7"),
    (AnswerFeedback(3, helpful=True), "fb:3:up"),
    (AnswerFeedback(3, helpful=False), "fb:3:down"),
    (AccessDecision(5, approve=True), "ad:5:yes"),
    (AccessDecision(5, approve=False), "ad:5:no"),
    (EnrolChoice("track", "frontline"), "en:track:frontline"),
    (EnrolChoice("tz", "America/Argentina/Buenos_Aires"), "en:tz:America/Argentina/Buenos_Aires"),
    (SettingChoice("time", "09:30"), "set:time:09:30"),
    (ForgetConfirm(42, erase=True), "fg:42:yes"),
    (ForgetConfirm(42, erase=False), "fg:42:no"),
    (SurveyRating(9, 1), "sv:9:1"),
    (SurveyRating(9, 5), "sv:9:5"),
]


@pytest.mark.parametrize(("payload", "wire"), EXAMPLES)
def test_the_wire_format_is_stable_and_decodes_back(payload: Payload, wire: str) -> None:
    # Buttons already sent (days ago, by an older version) must still be understood.
    assert payload.encode() == wire
    assert decode(wire) == payload


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "qa",
        "qa:",
        "qa:x:b",
        "qa:12",
        "qa:12:",
        "qa:12:b:c",
        "qs:-1",
        "lg:1e3",
        "fb:3:maybe",
        "fg:42",
        "fg:42:maybe",
        "fg:x:yes",
        "fg::yes",
        "ad:5",
        "ad:5:maybe",
        "ad:x:yes",
        "en:track",
        "set::09:30",
        "zz:1",
        "sv:9",
        "sv:9:0",
        "sv:9:6",
        "sv:9:４",
        "sv:x:3",
        "sv::3",
        "qa:" + "9" * 40 + ":b",
    ],
)
def test_anything_else_is_not_a_payload(wire: str) -> None:
    assert decode(wire) is None


@given(st.text(max_size=80))
def test_decoding_never_raises(text: str) -> None:
    payload = decode(text)
    assert payload is None or decode(payload.encode()) == payload
