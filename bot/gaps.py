"""Content gaps: the questions the materials did not answer, or answered unhelpfully.

A gap is an asked question the bot abstained on (``answered`` is false) or whose answer
the asker rated 👎 (``feedback = -1``). Trainers read the list week by week to improve the
course. The store does the heavy lifting: only gap rows in the window are read, already
counted per text and language by SQL. Similar phrasings are then grouped in Python on
that small set, cheaply and deterministically (no embedding model):

1. each text is normalised (:func:`normalise_question`: Unicode width, case,
   punctuation, spacing), and texts that become identical are one phrasing group;
2. phrasings in one language are grouped by token similarity: the content tokens of the
   project tokenizer (:func:`knowledge.tokenize.content_words`: jieba words and character
   bigrams for Chinese, light stems for English) compared with the Jaccard index. Two
   phrasings are similar when the index reaches the language's threshold in
   :data:`SIMILARITY_THRESHOLDS` **and** they share at least :data:`MIN_SHARED_TOKENS`
   tokens (or have identical token sets). The second condition keeps short questions that
   share only their topic word ("Where is the canteen" / "When does the canteen open")
   apart.

The thresholds were chosen on ``benchmarks/eval/gap_pairs.yaml``: 120 labelled pairs of
phrasings, 60 of one question asked in other words and 60 "hard" pairs that share their
frame but ask different things ("… canteen open for lunch" / "… for dinner"), plus the 330
distinct questions of the Q&A eval sets. At every threshold, word overlap merged more of
the different pairs than of the same ones (the first thresholds, 0.25 / 0.4, grouped 6 of
the 60 same pairs, 19 of the 60 different ones and 12 pairs of distinct eval questions;
e5 similarity separates them no better, AUC 0.50-0.53). A wrong merge hides a gap and
inflates another one's count, while a missed merge only lists a question twice, so the
thresholds are now high (0.6 / 0.7): near-identical phrasings ("会议室怎么预订" /
"会议室怎么预定", a trailing "pls") are one gap (1 same pair of 30 in each language, 2 and
0 different pairs, no eval questions merged), and the digests show the grouped phrasings.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Integer, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from bot.membership import team_at
from bot.reports.access import teams_below
from bot.store.db import Database
from bot.store.models import ERASED_TEXT, AskedQuestion, Team
from knowledge.tokenize import content_words

logger = logging.getLogger(__name__)

SIMILARITY_THRESHOLDS = {"zh": 0.6, "en": 0.7}
"""Least Jaccard index of the content tokens for two phrasings to be one gap, by language."""

MIN_SHARED_TOKENS = 2
"""Least number of shared content tokens for two phrasings to be one gap (unless the token
sets are identical)."""

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class GapGroup:
    """One content gap: a question (and its other phrasings) the materials did not serve.

    Attributes:
        question: the representative phrasing (the most asked, then the most recent).
        variants: the other phrasings grouped with it, most asked first.
        count: times asked in the window as a gap, all variants
            (``unanswered + thumbs_down``).
        unanswered: times the bot abstained.
        thumbs_down: times it answered but the asker rated the answer 👎.
        language: ``zh`` or ``en``.
        last_asked: when it was last asked as a gap (aware UTC).
    """

    question: str
    variants: tuple[str, ...]
    count: int
    unanswered: int
    thumbs_down: int
    language: str
    last_asked: datetime


@dataclass(frozen=True)
class _Phrasing:
    """Gap rows with the same text (as SQL grouped them) or the same normalised text."""

    texts: tuple[tuple[str, int, datetime], ...]  # (original text, count, last asked)
    language: str
    unanswered: int
    thumbs_down: int
    last_asked: datetime
    tokens: frozenset[str]

    @property
    def count(self) -> int:
        return self.unanswered + self.thumbs_down


def normalise_question(text: str) -> str:
    """The text with width, case, punctuation and spacing differences removed.

    Full-width letters and digits become ASCII (NFKC), letters are case-folded,
    punctuation and symbols become spaces, and runs of spaces collapse to one.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(char)[0] in "PSZC" else char for char in folded)
    return _SPACES.sub(" ", kept).strip()


def question_tokens(text: str) -> frozenset[str]:
    """The content tokens a phrasing is compared by (of its normalised text)."""
    return frozenset(content_words(normalise_question(text)))


def similarity(first: frozenset[str], second: frozenset[str]) -> float:
    """The Jaccard index of two token sets (0 when both are empty)."""
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def similar(first: frozenset[str], second: frozenset[str], language: str) -> bool:
    """Whether two phrasings' token sets count as the same question (see the module doc)."""
    if not first or not second:
        return False
    if first == second:
        return True
    shared = len(first & second)
    threshold = SIMILARITY_THRESHOLDS.get(language, SIMILARITY_THRESHOLDS["en"])
    return shared >= MIN_SHARED_TOKENS and shared / len(first | second) >= threshold


def team_ids_under(db: Database, name: str) -> list[int]:
    """The ids of team ``name`` (exact name) and of every team below it.

    Raises:
        LookupError: when no team has that name.
    """
    with db.session() as session:
        found = session.scalars(select(Team.id).where(Team.name == name)).one_or_none()
        if found is None:
            raise LookupError(f"unknown team {name!r}")
        return sorted(teams_below(session, [found]))


def content_gaps(
    db: Database,
    *,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None = None,
    person_ids: Collection[int] = (),
    limit: int | None = None,
) -> list[GapGroup]:
    """The content gaps asked in ``[start, end)``, similar phrasings grouped.

    Args:
        db: the store.
        start: window start, aware (included).
        end: window end, aware (excluded).
        team_ids: only questions asked by members of these teams (the team recorded with
            the question); ``None`` for everyone.
        person_ids: with ``team_ids``, also the questions these people asked (a
            manager's direct reports in other teams).
        limit: at most this many groups (the largest); ``None`` for all.

    Returns:
        Groups sorted by ``count`` (descending), then ``last_asked`` (most recent first),
        then the representative phrasing.

    Raises:
        ValueError: if ``start`` or ``end`` is naive.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("content_gaps needs aware datetimes for start and end")
    if team_ids is not None and not team_ids and not person_ids:
        return []
    phrasings = _merge_normalised(
        _gap_rows(db, start=start, end=end, team_ids=team_ids, person_ids=person_ids)
    )
    groups = [_group(members) for members in _cluster(phrasings)]
    groups.sort(key=lambda group: (-group.count, -group.last_asked.timestamp(), group.question))
    logger.debug("%d gap phrasings in %d groups", len(phrasings), len(groups))
    return groups if limit is None else groups[:limit]


def _gap_rows(
    db: Database,
    *,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    person_ids: Collection[int] = (),
) -> list[tuple[str, str, int, int, datetime]]:
    """``(text, language, unanswered, thumbs_down, last asked)`` per distinct gap text."""
    not_answered = AskedQuestion.answered.is_(False)
    rated_down = and_(AskedQuestion.answered.is_(True), AskedQuestion.feedback == -1)
    statement = (
        select(
            AskedQuestion.text,
            AskedQuestion.language,
            func.sum(case((not_answered, 1), else_=0)).cast(Integer),
            func.sum(case((rated_down, 1), else_=0)).cast(Integer),
            func.max(AskedQuestion.asked_at),
        )
        .where(
            AskedQuestion.asked_at >= start,
            AskedQuestion.asked_at < end,
            or_(not_answered, rated_down),
            # A forgotten asker's or an expired question keeps its counts, not its text.
            AskedQuestion.text != ERASED_TEXT,
        )
        .group_by(AskedQuestion.text, AskedQuestion.language)
    )
    if team_ids is not None:
        # The asker's team at the end of the window, as the weekly report counts people.
        asker_team = team_at(AskedQuestion.person_id, end, AskedQuestion.team_id)
        in_scope: ColumnElement[bool] = asker_team.in_(sorted(team_ids))
        if person_ids:
            in_scope = or_(in_scope, AskedQuestion.person_id.in_(sorted(person_ids)))
        statement = statement.where(in_scope)
    with db.session() as session:
        rows = session.execute(statement).all()
    return [
        (text, language, int(unanswered or 0), int(down or 0), _aware(last))
        for text, language, unanswered, down, last in rows
    ]


def _aware(moment: datetime | str) -> datetime:
    """A maximum over the UTC column, aware in UTC whatever the driver returned."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _merge_normalised(rows: Sequence[tuple[str, str, int, int, datetime]]) -> list[_Phrasing]:
    """One phrasing per language and normalised text."""
    merged: dict[tuple[str, str], list[tuple[str, str, int, int, datetime]]] = {}
    for row in rows:
        text, language = row[0], row[1]
        merged.setdefault((language, normalise_question(text)), []).append(row)
    phrasings = []
    for (language, normalised), members in merged.items():
        members.sort(key=lambda row: (-(row[2] + row[3]), -row[4].timestamp(), row[0]))
        phrasings.append(
            _Phrasing(
                texts=tuple((row[0].strip(), row[2] + row[3], row[4]) for row in members),
                language=language,
                unanswered=sum(row[2] for row in members),
                thumbs_down=sum(row[3] for row in members),
                last_asked=max(row[4] for row in members),
                tokens=question_tokens(normalised),
            )
        )
    # Most asked first, so each group grows around its most common phrasing.
    phrasings.sort(key=lambda p: (-p.count, -p.last_asked.timestamp(), p.texts[0][0]))
    return phrasings


def _cluster(phrasings: Sequence[_Phrasing]) -> list[list[_Phrasing]]:
    """Greedy single-link grouping: a phrasing joins the group it is most similar to."""
    groups: list[list[_Phrasing]] = []
    for phrasing in phrasings:
        best: list[_Phrasing] | None = None
        best_score = 0.0
        for group in groups:
            if group[0].language != phrasing.language:
                continue
            score = max(
                (
                    similarity(phrasing.tokens, other.tokens)
                    for other in group
                    if similar(phrasing.tokens, other.tokens, phrasing.language)
                ),
                default=0.0,
            )
            if score > best_score:
                best, best_score = group, score
        if best is None:
            groups.append([phrasing])
        else:
            best.append(phrasing)
    return groups


def _group(members: list[_Phrasing]) -> GapGroup:
    counts: dict[str, int] = {}
    last: dict[str, datetime] = {}
    for member in members:
        for text, count, asked in member.texts:
            counts[text] = counts.get(text, 0) + count
            last[text] = max(asked, last.get(text, asked))
    ordered = sorted(counts, key=lambda text: (-counts[text], -last[text].timestamp(), text))
    return GapGroup(
        question=ordered[0],
        variants=tuple(ordered[1:]),
        count=sum(member.count for member in members),
        unanswered=sum(member.unanswered for member in members),
        thumbs_down=sum(member.thumbs_down for member in members),
        language=members[0].language,
        last_asked=max(member.last_asked for member in members),
    )
