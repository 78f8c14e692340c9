"""What simulated learners say back (``trainbot simulate``): ratings, comments, application.

The evaluation flows ask people for more than quiz answers: a one-tap rating after a
lesson with an optional comment (level 1, :mod:`bot.surveys`), and later whether they
applied the lesson at work, which their manager is asked too (level 2,
:mod:`bot.application`). This module decides a simulated person's answers; the simulation
(:mod:`bot.simulation`) presses the buttons through the real bot.

The answers are tied to what the simulation knows about the learner, so the figures the
reports compute mean something:

- **Rating** (1-5): higher the more of the lesson's questions the learner understood
  (:meth:`bot.simulation.Learner.understood`), shifted by how lenient they are, plus noise.
- **Comment**: drawn from a small pool written for the simulation (Chinese and English),
  in the tone of the rating: praise after 4-5, mixed after 3, complaints after 1-2.
  People with a complaint write more often than people who are merely satisfied.
- **Application**: whether the learner applied a lesson at work is decided once per lesson,
  with a chance that grows with their recall of its questions at the check-in; the
  check-in answer reports it honestly (and "not relevant" now and then); the manager sees
  it, or not, with some noise.

The simulation draws these answers from random streams seeded by the seed and the event
(the survey, the check-in, the checklist row), apart from the stream that drives pushes
and quiz answers: adding these flows left the learning figures of a seed as they were, and
the same seed gives the same answers whatever order the messages were sent in.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from enum import StrEnum

logger = logging.getLogger(__name__)


class Tone(StrEnum):
    """What a simulated comment says overall."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


# Written for the simulation, in the voice of the sample course's learners (user operations
# at a community retail company). Deliberately not the labelled files under tests/data:
# the sentiment model's centroids were computed from those.
COMMENTS: dict[Tone, dict[str, tuple[str, ...]]] = {
    Tone.POSITIVE: {
        "zh": (
            "案例很贴近我们门店的情况，明天就照着试试",
            "流失预警那几个信号讲得明白，我抄到工作群里了",
            "五分钟就能看完，午休刚好学一节",
            "比上次的线下大课实用多了",
            "步骤写得很具体，照着做不会错",
            "终于分清了留存和复购，谢谢",
            "短小精悍，喜欢这种形式",
            "新来的同事也能看懂，例子选得好",
        ),
        "en": (
            "Clear and short, I read it between two calls.",
            "The churn warning checklist is exactly what my team needed.",
            "Good examples, I'll try the script with my next customer.",
            "Practical steps rather than theory. Thanks!",
            "Just the right length for a phone screen.",
            "Finally clear on how retention differs from repeat purchase.",
        ),
    },
    Tone.NEUTRAL: {
        "zh": (
            "内容还行，有几个术语没有解释",
            "大部分之前就知道，复习一下也好",
            "希望多放一些真实的对话记录",
            "前半部分有用，后半部分有点泛",
            "还可以，和我的岗位关系不算大",
            "能不能附一个可以下载的清单",
        ),
        "en": (
            "Mostly things I knew, still a decent refresher.",
            "OK overall; a downloadable checklist would help.",
            "A couple of terms could use a one-line definition.",
            "Useful in parts, the second half felt generic.",
            "Fine, though not very close to what I do day to day.",
        ),
    },
    Tone.NEGATIVE: {
        "zh": (
            "太理论了，跟门店的实际工作对不上",
            "读了两遍，还是不清楚第一步从哪下手",
            "一屏一屏地翻，字密密麻麻看不下去",
            "举的例子都是大城市的，我们县城用不上",
            "测验考的东西课里根本没讲",
            "讲得太快，好几个概念一带而过",
            "重复的内容太多，有点浪费时间",
            "都是常识，没学到新东西",
        ),
        "en": (
            "Too abstract, I can't see how to use this in my store.",
            "Far too much text for a mobile screen.",
            "Half the quiz was on points I never saw in the lesson.",
            "It rushed through the key ideas and I got lost halfway.",
            "Nothing I didn't already know; I'd skip it.",
            "The examples only fit big-city teams, not ours.",
        ),
    },
}


def tone_of(rating: int) -> Tone:
    """The tone of a comment written with ``rating``."""
    if rating >= 4:
        return Tone.POSITIVE
    return Tone.NEUTRAL if rating == 3 else Tone.NEGATIVE


_COMMENT_ODDS = {1: 0.6, 2: 0.5, 3: 0.25, 4: 0.15, 5: 0.2}
"""The chance that a rating of this value comes with a comment, before the learner's own
talkativeness: complaints are written more often than contentment."""


@dataclass(frozen=True)
class Voice:
    """How one simulated learner answers the evaluation flows (fixed per learner and seed).

    Attributes:
        rates: the chance to rate a lesson when asked (diligent people rate more).
        leniency: added to every rating they give (some people never give a 5).
        talkative: multiplies the chance to add a comment.
        language: the language they write comments in.
        applies: how readily they put a lesson into practice, 0..1.
        not_relevant: the chance to answer a check-in "not relevant to my work".
    """

    rates: float
    leniency: float
    talkative: float
    language: str
    applies: float
    not_relevant: float


_RATES = {"diligent": (0.75, 0.95), "steady": (0.5, 0.75), "lapsing": (0.25, 0.5)}


def make_voice(habit: str, rng: random.Random) -> Voice:
    """A learner's :class:`Voice`, drawn from ``rng`` (the simulation's feedback stream)."""
    low, high = _RATES.get(habit, (0.5, 0.75))
    return Voice(
        rates=rng.uniform(low, high),
        leniency=rng.gauss(0.0, 0.4),
        talkative=rng.uniform(0.5, 1.5),
        language="en" if rng.random() < 0.25 else "zh",
        applies=rng.uniform(0.45, 0.95),
        not_relevant=rng.uniform(0.0, 0.15),
    )


def rating(voice: Voice, understood: float, rng: random.Random) -> int:
    """The rating (1-5) of a learner who understood ``understood`` (0..1) of a lesson.

    A lesson fully understood averages about 4.6 before leniency and noise, one not
    understood at all about 1.8.
    """
    value = 1.8 + 2.8 * understood + voice.leniency + rng.gauss(0.0, 0.6)
    return max(1, min(5, round(value)))


def comment(voice: Voice, given: int, rng: random.Random) -> tuple[Tone, str] | None:
    """The comment a learner adds to the rating ``given``, or ``None`` (most add none)."""
    if rng.random() >= min(1.0, _COMMENT_ODDS[given] * voice.talkative):
        return None
    tone = tone_of(given)
    return tone, rng.choice(COMMENTS[tone][voice.language])


class CheckinReply(StrEnum):
    """A check-in's answers, as its buttons name them (``bot.payloads.CHECKIN_ANSWERS``)."""

    SEVERAL = "several"
    ONCE = "once"
    NOT_YET = "not_yet"
    NOT_RELEVANT = "not_relevant"


class ObservationReply(StrEnum):
    """An observation's answers (``bot.payloads.OBSERVATION_ANSWERS``)."""

    SEEN = "seen"
    NOT_SEEN = "not_seen"
    UNSURE = "unsure"


def applies_lesson(voice: Voice, recall: float, rng: random.Random) -> bool:
    """Whether a learner puts a lesson into practice, given their recall of it (0..1).

    One cannot apply what one does not remember: the chance is the recall times how
    readily they apply what they learn.
    """
    return rng.random() < recall * voice.applies


def checkin_reply(voice: Voice, applied: bool, rng: random.Random) -> CheckinReply:
    """The learner's honest check-in answer: several times or once if they applied it."""
    if rng.random() < voice.not_relevant:
        return CheckinReply.NOT_RELEVANT
    if not applied:
        return CheckinReply.NOT_YET
    return CheckinReply.SEVERAL if rng.random() < 0.45 else CheckinReply.ONCE


_OBSERVED = {
    True: ((ObservationReply.SEEN, 0.7), (ObservationReply.UNSURE, 0.2)),
    False: ((ObservationReply.NOT_SEEN, 0.65), (ObservationReply.UNSURE, 0.25)),
}
"""What a manager answers about someone who applied a lesson (``True``) or did not: the
likely answer, then "can't tell"; the rest of the time the wrong one (a manager sees only
part of a person's work)."""


EXAMPLES: dict[str, tuple[str, ...]] = {
    "zh": (
        "上周按流失预警清单给三个老客户回访，挽回了一个",
        "在社群里试了新人激活的三步，首单转化好了一些",
        "客户投诉时先复述问题再给方案，对方态度缓和多了",
        "排班时避开了周末高峰，培训出勤率高了",
        "把隐私规则贴在了工位上，导出表格前都先检查一遍",
    ),
    "en": (
        "Called three lapsing customers with the warning checklist; one came back.",
        "Used the three activation steps in our group chat, first orders went up a bit.",
        "Repeated the complaint back before offering a fix; the customer calmed down.",
        "Checked the privacy rules before exporting the member list this week.",
    ),
}
"""Examples a learner may reply to a check-in with after applying a lesson (written for
the simulation)."""

_EXAMPLE_ODDS = 0.25
"""The chance that a learner who applied a lesson replies with an example, before their
talkativeness."""


def example(voice: Voice, reply: CheckinReply, rng: random.Random) -> str | None:
    """The example a learner replies to their check-in with, or ``None`` (most give none)."""
    if reply not in (CheckinReply.SEVERAL, CheckinReply.ONCE):
        return None
    if rng.random() >= min(1.0, _EXAMPLE_ODDS * voice.talkative):
        return None
    return rng.choice(EXAMPLES[voice.language])


def observation_reply(applied: bool, rng: random.Random) -> ObservationReply:
    """A manager's answer about a report who did (or did not) apply a lesson, with noise."""
    (likely, p_likely), (unsure, p_unsure) = _OBSERVED[applied]
    draw = rng.random()
    if draw < p_likely:
        return likely
    if draw < p_likely + p_unsure:
        return unsure
    return ObservationReply.NOT_SEEN if applied else ObservationReply.SEEN


_APPLYING = {"several", "once", "seen"}
_EVIDENCE = _APPLYING | {"not_yet", "not_seen"}


@dataclass
class FeedbackTally:
    """What the simulated people answered, as the simulation knows it (not read back).

    ``ratings`` and ``rating_total`` are per ISO week (organisation's zone) of the tap, as
    the weekly report groups them.
    """

    asked: int = 0
    rated: int = 0
    rating_total: int = 0
    comments: dict[str, int] = field(default_factory=lambda: {tone.value: 0 for tone in Tone})
    weeks: dict[str, dict[str, int]] = field(default_factory=dict)
    checkins_sent: int = 0
    checkins_answered: int = 0
    checkin_answers: dict[str, int] = field(
        default_factory=lambda: {reply.value: 0 for reply in CheckinReply}
    )
    examples: int = 0
    observations_sent: int = 0
    observation_answers: dict[str, int] = field(
        default_factory=lambda: {reply.value: 0 for reply in ObservationReply}
    )
    evidence: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(learner, lesson) -> every answer given about them applying it (check-in or
    observation), in order."""

    def answered(
        self, learner: str, lesson_id: str, answer: CheckinReply | ObservationReply
    ) -> None:
        """Count an answer about ``learner`` applying ``lesson_id``."""
        if isinstance(answer, CheckinReply):
            self.checkins_answered += 1
            self.checkin_answers[answer.value] += 1
        else:
            self.observation_answers[answer.value] += 1
        self.evidence.setdefault((learner, lesson_id), []).append(answer.value)

    def application(self, trained: set[tuple[str, str]]) -> dict[str, int]:
        """People × lessons as :func:`bot.application.application_cells` counts them.

        Args:
            trained: the (learner, lesson) pairs whose lesson was completed.

        Returns:
            ``trained``; ``reported``: pairs with an answer that is evidence either way
            (not "not relevant" or "can't tell"); ``applying``: pairs with an answer
            saying they applied it.
        """
        reported = applying = 0
        for pair in trained:
            answers = set(self.evidence.get(pair, ()))
            reported += bool(answers & _EVIDENCE)
            applying += bool(answers & _APPLYING)
        return {"trained": len(trained), "reported": reported, "applying": applying}

    def rate(self, week: str, given: int) -> None:
        """Count a rating given in ``week``."""
        self.rated += 1
        self.rating_total += given
        cell = self.weeks.setdefault(week, {"ratings": 0, "rating_total": 0})
        cell["ratings"] += 1
        cell["rating_total"] += given

    @property
    def mean_rating(self) -> float | None:
        """The mean of every rating given, ``None`` without one."""
        return self.rating_total / self.rated if self.rated else None

    @property
    def applied_share(self) -> float | None:
        """Check-ins saying "applied" (several times or once) ÷ those that are evidence.

        "Not relevant" is no evidence either way, as in :mod:`bot.application`.
        """
        answers = self.checkin_answers
        evidence = answers["several"] + answers["once"] + answers["not_yet"]
        return (answers["several"] + answers["once"]) / evidence if evidence else None


__all__ = [
    "COMMENTS",
    "EXAMPLES",
    "CheckinReply",
    "FeedbackTally",
    "ObservationReply",
    "Tone",
    "Voice",
    "applies_lesson",
    "checkin_reply",
    "comment",
    "example",
    "make_voice",
    "observation_reply",
    "rating",
    "tone_of",
]
