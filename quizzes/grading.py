"""Grading an answer, building a multi-select answer, and naming the choices.

Keys are the option keys of a question (``A``, ``B``, ...) or ``true``/``false`` for a
true/false question; they travel in button payloads, so a key the question does not have
means a stale or forged button and is refused with :class:`ValueError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from quizzes.content import Question, QuestionType

# The one place these two words live: quizzes/ cannot import the bot's locale tables, and the
# labels belong to the question type rather than to any handler.
TRUE_FALSE_LABELS: dict[str, dict[str, str]] = {
    "zh": {"true": "对", "false": "错"},
    "en": {"true": "True", "false": "False"},
}


def _keys(chosen: Sequence[str]) -> tuple[str, ...]:
    # A bare string is a Sequence[str] too; read it as one key, not as its characters.
    return (chosen,) if isinstance(chosen, str) else tuple(chosen)


def _check_keys(question: Question, keys: Sequence[str]) -> None:
    unknown = [key for key in keys if key not in question.keys]
    if unknown:
        raise ValueError(
            f"question {question.id!r} has no option {', '.join(map(repr, unknown))} "
            f"(its keys are {', '.join(question.keys)})"
        )


def grade(question: Question, chosen: Sequence[str]) -> bool:
    """Whether ``chosen`` is the right answer to ``question``.

    Every question type compares sets: a single-choice or true/false answer is right when
    exactly its one key is chosen; a multiple-choice answer when the chosen keys are exactly
    the answer keys, in any order, duplicates ignored. Choosing nothing is wrong.

    Args:
        question: the question answered.
        chosen: the chosen keys; a bare string counts as one key.

    Returns:
        ``True`` when the answer is right.

    Raises:
        ValueError: if a chosen key is not one of the question's keys.
    """
    keys = _keys(chosen)
    _check_keys(question, keys)
    return set(keys) == set(question.answer)


def toggle(selection: Sequence[str], key: str, question: Question) -> tuple[str, ...]:
    """Add ``key`` to a multi-select answer in progress, or take it out if already there.

    Args:
        selection: the keys selected so far (any order).
        key: the key just pressed.
        question: a multiple-choice question.

    Returns:
        The new selection, each key once, in the question's option order.

    Raises:
        ValueError: if the question is not multiple-choice (a single-choice press is the
            answer itself, not a selection) or a key is not one of its keys.
    """
    if question.type is not QuestionType.MULTI:
        raise ValueError(f"question {question.id!r} is {question.type.value}, not multi")
    current = _keys(selection)
    _check_keys(question, (*current, key))
    selected = set(current) ^ {key}
    return tuple(option for option in question.keys if option in selected)


def option_label(question: Question, key: str, language: str) -> str:
    """How a choice is shown on a button or in feedback.

    Args:
        question: the question the key belongs to.
        key: one of its keys.
        language: ``"zh"`` or ``"en"``; anything else falls back to Chinese, as content does.

    Returns:
        ``"A. text"`` for an option; ``"对"``/``"错"`` or ``"True"``/``"False"`` for a
        true/false key.

    Raises:
        ValueError: if ``key`` is not one of the question's keys.
    """
    _check_keys(question, (key,))
    if question.type is QuestionType.TRUE_FALSE:
        labels = TRUE_FALSE_LABELS.get(language, TRUE_FALSE_LABELS["zh"])
        return labels[key]
    return f"{key}. {question.options[key]}"
