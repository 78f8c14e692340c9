"""Grading answers, toggling multi-select answers and labelling choices."""

from __future__ import annotations

from typing import Any

import pytest

from quizzes.content import Question
from quizzes.grading import grade, option_label, toggle


def _question(**fields: Any) -> Question:
    base: dict[str, Any] = {
        "id": "q1",
        "language": "en",
        "track": "frontline",
        "lesson": "fl-01",
        "prompt": "Which?",
        "explanation": "Because.",
        "source": "basics.md",
    }
    return Question.model_validate({**base, **fields})


SINGLE = _question(
    type="single", options={"A": "Retention", "B": "Activation", "C": "Churn"}, answer="B"
)
MULTI = _question(
    type="multi",
    options={"A": "Email", "B": "Phone", "C": "Fax", "D": "Visit"},
    answer=["A", "B", "D"],
)
TRUE_FALSE = _question(type="true_false", answer=False)


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [(["B"], True), (("B",), True), ("B", True), (["A"], False), ([], False), (["A", "B"], False)],
)
def test_single_is_right_only_for_exactly_the_answer_key(chosen: Any, expected: bool) -> None:
    assert grade(SINGLE, chosen) is expected


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (["A", "B", "D"], True),
        (["D", "A", "B"], True),
        (["B", "D", "A", "B"], True),
        (["A", "B"], False),
        (["A", "B", "C", "D"], False),
        (["C"], False),
        ([], False),
    ],
)
def test_multi_compares_sets_ignoring_order_and_duplicates(
    chosen: list[str], expected: bool
) -> None:
    assert grade(MULTI, chosen) is expected


@pytest.mark.parametrize(
    ("chosen", "expected"), [(["false"], True), ("false", True), (["true"], False)]
)
def test_true_false_uses_true_and_false_keys(chosen: Any, expected: bool) -> None:
    assert grade(TRUE_FALSE, chosen) is expected


@pytest.mark.parametrize(
    ("question", "chosen"),
    [
        (SINGLE, ["E"]),
        (SINGLE, ["b"]),
        (MULTI, ["A", "Z"]),
        (TRUE_FALSE, ["False"]),
        (TRUE_FALSE, ["A"]),
    ],
)
def test_unknown_keys_are_refused(question: Question, chosen: list[str]) -> None:
    with pytest.raises(ValueError, match="has no option"):
        grade(question, chosen)


def test_toggle_adds_and_removes_keeping_option_order() -> None:
    selection: tuple[str, ...] = ()
    selection = toggle(selection, "D", MULTI)
    selection = toggle(selection, "A", MULTI)
    assert selection == ("A", "D")
    selection = toggle(selection, "B", MULTI)
    assert selection == ("A", "B", "D")
    assert grade(MULTI, selection)
    assert toggle(selection, "A", MULTI) == ("B", "D")


def test_toggle_collapses_duplicates_in_the_selection() -> None:
    assert toggle(["C", "A", "C"], "B", MULTI) == ("A", "B", "C")


def test_toggle_refuses_unknown_keys_and_non_multi_questions() -> None:
    with pytest.raises(ValueError, match="has no option"):
        toggle((), "Z", MULTI)
    with pytest.raises(ValueError, match="has no option"):
        toggle(("Z",), "A", MULTI)
    with pytest.raises(ValueError, match="not multi"):
        toggle((), "A", SINGLE)


def test_option_labels_show_key_and_text() -> None:
    assert option_label(SINGLE, "B", "en") == "B. Activation"
    assert option_label(SINGLE, "B", "zh") == "B. Activation"  # the text is the question's own


@pytest.mark.parametrize(
    ("language", "true", "false"),
    [("zh", "对", "错"), ("en", "True", "False"), ("fr", "对", "错")],
)
def test_true_false_labels_by_language(language: str, true: str, false: str) -> None:
    assert option_label(TRUE_FALSE, "true", language) == true
    assert option_label(TRUE_FALSE, "false", language) == false


def test_option_label_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError):
        option_label(SINGLE, "Z", "en")
    with pytest.raises(ValueError):
        option_label(TRUE_FALSE, "yes", "zh")
