"""The "content to improve" list as Markdown, HTML, JSON and the trainers' chat digest.

The list itself is :mod:`bot.evaluation.improve`; this module only words it, in the
reader's language. Question texts and comments are what people typed: Markdown escapes
them (:func:`bot.reports.render.markdown_text`), HTML escapes every value.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

from bot.evaluation.improve import TOP, ContentToImprove, LessonToImprove, Signal, UnattachedGaps
from bot.i18n import t
from bot.reports.render import markdown_text, percent, rating_mean

logger = logging.getLogger(__name__)

QUOTE_CHARS = 80
"""The longest complaint or question quoted in the evidence (the JSON has them whole)."""


def _short(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_typed(text: str) -> str:
    return text


def _value(signal: Signal) -> str:
    if signal.name == "rating":
        return rating_mean(signal.value)
    return percent(signal.value)


def _course(signal: Signal) -> str:
    if signal.name == "rating":
        return rating_mean(signal.course)
    return percent(signal.course)


def signal_text(signal: Signal, language: str) -> str:
    """One signal in words: its value, n and the course's, then what it adds or why not.

    ``⚠`` marks a signal that puts the lesson on the list.
    """
    if signal.name == "gaps":
        text = t(language, "improve_gaps", n=signal.n)
    else:
        text = t(
            language,
            f"improve_{signal.name}",
            value=_value(signal),
            n=signal.n,
            course=_course(signal),
            negative=signal.detail,
        )
    if signal.too_few:
        return t(language, "improve_too_few", text=text)
    if signal.weak:
        return t(language, "improve_weak", text=text, weight=f"{signal.weight:.2f}")
    return text


def _shown(lesson: LessonToImprove) -> list[Signal]:
    """The signals with data (a signal nobody gave data for says nothing)."""
    return [signal for signal in lesson.signals if signal.n > 0]


def _words(lesson: LessonToImprove, language: str, escape: Callable[[str], str]) -> list[str]:
    """The complaint, the questions asked and the theme summary, each on a line."""
    lines = []
    if lesson.complaint is not None:
        lines.append(
            t(
                language,
                "improve_complaint",
                count=lesson.complaint.count,
                text=escape(_short(lesson.complaint.representative)),
            )
        )
    if lesson.gap_questions:
        questions = " / ".join(f"“{escape(_short(text))}”" for text in lesson.gap_questions)
        lines.append(t(language, "improve_gap_examples", questions=questions))
    if lesson.theme:
        lines.append(t(language, "improve_theme", theme=escape(_short(lesson.theme, 300))))
    return lines


def _heading(lesson: LessonToImprove, language: str, escape: Callable[[str], str]) -> str:
    return t(
        language,
        "improve_item",
        title=escape(lesson.title),
        track=escape(lesson.track or lesson.lesson_id),
        score=f"{lesson.score:.2f}",
    )


def _unattached_text(gaps: UnattachedGaps, language: str, escape: Callable[[str], str]) -> str:
    examples = " / ".join(f"“{escape(_short(text))}”" for text in gaps.examples) or "—"
    return t(
        language,
        f"improve_unattached_{gaps.reason}",
        count=gaps.count,
        material=escape(gaps.material or "—"),
        examples=examples,
    )


def _course_line(found: ContentToImprove, language: str) -> str:
    values = found.course
    return t(
        language,
        "improve_course",
        rating=rating_mean(values.get("rating")),
        comments=percent(values.get("comments")),
        accuracy=percent(values.get("accuracy")),
        application=percent(values.get("application")),
    )


def _empty_line(found: ContentToImprove, language: str) -> str | None:
    """What to say instead of a list: nothing observed, or nothing weak."""
    if not found.observed:
        return t(language, "improve_empty", first=found.first_week, last=found.week)
    if not found.lessons:
        return t(language, "improve_none", first=found.first_week, last=found.week)
    return None


def improve_markdown(found: ContentToImprove, language: str, *, heading: str = "#") -> list[str]:
    """The list as Markdown lines, under a ``heading``-level title."""
    lines = [f"{heading} {t(language, 'improve_title')}", ""]
    lines += [
        markdown_text(t(language, "improve_definition", first=found.first_week, last=found.week))
    ]
    empty = _empty_line(found, language)
    if empty is not None:
        lines += ["", markdown_text(empty)]
    for number, lesson in enumerate(found.lessons, start=1):
        lines += ["", f"{number}. **{_heading(lesson, language, markdown_text)}**"]
        lines += [
            f"   - {markdown_text(signal_text(signal, language))}" for signal in _shown(lesson)
        ]
        lines += [f"   - {line}" for line in _words(lesson, language, markdown_text)]
    if found.observed:
        lines += ["", markdown_text(_course_line(found, language))]
    if found.unattached:
        lines += ["", f"{heading}# {t(language, 'improve_unattached_title')}", ""]
        lines += [
            f"- {_unattached_text(gaps, language, markdown_text)}" for gaps in found.unattached
        ]
    return lines


def improve_document(found: ContentToImprove, language: str) -> str:
    """``trainbot evaluate``'s Markdown: the list under a title naming the week."""
    lines = improve_markdown(found, language)
    lines[0] = f"# {t(language, 'improve_title_week', week=found.week)}"
    return "\n".join(lines) + "\n"


def improve_html(found: ContentToImprove, language: str) -> list[str]:
    """The list as a section of the HTML report (every value escaped)."""
    parts = [
        f'<h2 id="content-to-improve">{html.escape(t(language, "improve_title"))}</h2>',
        "<p>"
        + html.escape(t(language, "improve_definition", first=found.first_week, last=found.week))
        + "</p>",
    ]
    empty = _empty_line(found, language)
    if empty is not None:
        parts.append(f"<p>{html.escape(empty)}</p>")
    if found.lessons:
        items = []
        for lesson in found.lessons:
            evidence = [signal_text(signal, language) for signal in _shown(lesson)]
            evidence += _words(lesson, language, _as_typed)
            rows = "".join(
                f'<li class="{"weak" if line.startswith("⚠") else "evidence"}">'
                f"{html.escape(line)}</li>"
                for line in evidence
            )
            items.append(
                f"<li><strong>{html.escape(_heading(lesson, language, _as_typed))}</strong>"
                f"<ul>{rows}</ul></li>"
            )
        parts.append(f'<ol id="improve-list">{"".join(items)}</ol>')
    if found.observed:
        parts.append(f'<p class="scope">{html.escape(_course_line(found, language))}</p>')
    if found.unattached:
        parts.append(f"<h3>{html.escape(t(language, 'improve_unattached_title'))}</h3>")
        parts.append(
            "<ul>"
            + "".join(
                f"<li>{html.escape(_unattached_text(gaps, language, _as_typed))}</li>"
                for gaps in found.unattached
            )
            + "</ul>"
        )
    return parts


def _signal_json(signal: Signal, language: str) -> dict[str, Any]:
    return {
        "signal": signal.name,
        "value": None if signal.value is None else round(signal.value, 4),
        "n": signal.n,
        "course": None if signal.course is None else round(signal.course, 4),
        "adds": signal.weight,
        "weak": signal.weak,
        "too_few": signal.too_few,
        **({"negative": signal.detail} if signal.name == "comments" else {}),
        "text": signal_text(signal, language),
    }


def improve_json(found: ContentToImprove, language: str) -> dict[str, Any]:
    """The list as a JSON-ready dict (docs/evaluation.md)."""
    return {
        "week": found.week,
        "first_week": found.first_week,
        "start": found.start.isoformat(),
        "end": found.end.isoformat(),
        "observed": found.observed,
        "course": {
            name: None if value is None else round(value, 4) for name, value in found.course.items()
        },
        "lessons": [
            {
                "rank": number,
                "lesson_id": lesson.lesson_id,
                "title": lesson.title,
                "track": lesson.track,
                "score": lesson.score,
                "signals": [_signal_json(signal, language) for signal in lesson.signals],
                "complaint": None
                if lesson.complaint is None
                else {
                    "count": lesson.complaint.count,
                    "representative": lesson.complaint.representative,
                    "terms": list(lesson.complaint.terms),
                },
                "gap_questions": list(lesson.gap_questions),
                "theme": lesson.theme,
            }
            for number, lesson in enumerate(found.lessons, start=1)
        ],
        "unattached_gaps": [
            {
                "reason": gaps.reason,
                "count": gaps.count,
                "material": gaps.material,
                "examples": list(gaps.examples),
                "text": _unattached_text(gaps, language, _as_typed),
            }
            for gaps in found.unattached
        ],
    }


def improve_chat(found: ContentToImprove, language: str, *, top: int = TOP) -> list[str]:
    """The trainers' digest part: the ``top`` lessons with the signals that put them there."""
    if not found.lessons:
        return []
    shown = found.lessons[:top]
    lines = [
        t(
            language,
            "improve_digest",
            week=found.week,
            count=len(shown),
            first=found.first_week,
            last=found.week,
        )
    ]
    for number, lesson in enumerate(shown, start=1):
        lines.append(f"{number}. {_heading(lesson, language, _as_typed)}")
        lines += [
            f"   - {signal_text(signal, language)}" for signal in lesson.signals if signal.weak
        ]
        lines += [f"   - {line}" for line in _words(lesson, language, _as_typed)]
    return lines


__all__ = [
    "improve_chat",
    "improve_document",
    "improve_html",
    "improve_json",
    "improve_markdown",
    "signal_text",
]
