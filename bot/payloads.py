"""Button payloads: each kind encodes itself, and every press is decoded in one place.

A payload goes out on a button (Telegram's ``callback_data``, Slack's action ``value``, the
console's numbered choices) and comes back on a press, possibly days later, from an older
version of the bot, or forged. :func:`decode` turns it into one of the typed payloads
below, or ``None`` for anything it does not recognise, which the bot answers as a stale
button. Handlers never split payload strings themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.digits import ascii_int

SEPARATOR = ":"


@dataclass(frozen=True)
class _KeyOfItem:
    TAG: ClassVar[str]
    delivery_id: int
    key: str

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.delivery_id}:{self.key}"


@dataclass(frozen=True)
class _Item:
    TAG: ClassVar[str]
    delivery_id: int

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.delivery_id}"


@dataclass(frozen=True)
class _Choice:
    TAG: ClassVar[str]
    what: str
    value: str

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.what}:{self.value}"


class QuizAnswer(_KeyOfItem):
    """Answer a single-choice or true/false question: ``qa:<delivery>:<key>``."""

    TAG = "qa"


class QuizToggle(_KeyOfItem):
    """Tick or untick an option of a multi-select question: ``qt:<delivery>:<key>``."""

    TAG = "qt"


class QuizSubmit(_Item):
    """Submit a multi-select answer: ``qs:<delivery>``."""

    TAG = "qs"


class LessonDone(_Item):
    """ "Got it" under a lesson: ``lg:<delivery>``."""

    TAG = "lg"


class LessonQuiz(_Item):
    """ "Quiz me" under a lesson: ``lq:<delivery>``."""

    TAG = "lq"


@dataclass(frozen=True)
class AnswerFeedback:
    """👍 or 👎 under an answer: ``fb:<asked question>:up|down``."""

    TAG: ClassVar[str] = "fb"
    asked_id: int
    helpful: bool

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.asked_id}:{'up' if self.helpful else 'down'}"


@dataclass(frozen=True)
class ForgetConfirm:
    """ "Yes, erase" or "Cancel" under /forget's summary: ``fg:<person>:yes|no``.

    The stored person's id is in the payload, so a press after the erasure (a double
    click, an old message) cannot erase whoever that platform account is stored as later.
    """

    TAG: ClassVar[str] = "fg"
    person_id: int
    erase: bool

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.person_id}:{'yes' if self.erase else 'no'}"


@dataclass(frozen=True)
class AccessDecision:
    """An admin's Approve or Deny under an access request: ``ad:<request>:yes|no``."""

    TAG: ClassVar[str] = "ad"
    request_id: int
    approve: bool

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.request_id}:{'yes' if self.approve else 'no'}"


@dataclass(frozen=True)
class SurveyRating:
    """A tap on the satisfaction survey after a lesson: ``sv:<survey>:<1-5>``."""

    TAG: ClassVar[str] = "sv"
    survey_id: int
    rating: int

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.survey_id}:{self.rating}"


@dataclass(frozen=True)
class CheckinAnswer:
    """A learner's answer to "did you apply this lesson?": ``ci:<delivery>:<answer>``.

    ``answer`` is one of :data:`CHECKIN_ANSWERS`; the lesson is the check-in's.
    """

    TAG: ClassVar[str] = "ci"
    delivery_id: int
    answer: str

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.delivery_id}:{self.answer}"


@dataclass(frozen=True)
class ObservationAnswer:
    """An observer's answer for one lesson of a checklist: ``ob:<delivery>:<n>:<answer>``.

    ``index`` is the lesson's place (0-based) in the checklist the delivery stored, so
    the payload stays short whatever the lesson ids; ``answer`` is one of
    :data:`OBSERVATION_ANSWERS`.
    """

    TAG: ClassVar[str] = "ob"
    delivery_id: int
    index: int
    answer: str

    def encode(self) -> str:
        """The payload string."""
        return f"{self.TAG}:{self.delivery_id}:{self.index}:{self.answer}"


CHECKIN_ANSWERS = ("several", "once", "not_yet", "not_relevant")
"""A check-in's answers, as ``bot.store.models.Application`` values."""
OBSERVATION_ANSWERS = ("seen", "not_seen", "unsure")
"""An observation's answers, as ``bot.store.models.Application`` values."""


RATINGS = range(1, 6)
"""The ratings a survey offers (1 not useful at all … 5 very useful)."""


class EnrolChoice(_Choice):
    """A choice during enrolment: ``en:track:<id>`` or ``en:tz:<zone>``."""

    TAG = "en"


class SettingChoice(_Choice):
    """A choice in /settings: ``set:lang:<zh|en>``, ``set:tz:<zone>``, ``set:time:<HH:MM>``."""

    TAG = "set"


Payload = (
    QuizAnswer
    | QuizToggle
    | QuizSubmit
    | LessonDone
    | LessonQuiz
    | AnswerFeedback
    | ForgetConfirm
    | AccessDecision
    | EnrolChoice
    | SettingChoice
    | SurveyRating
    | CheckinAnswer
    | ObservationAnswer
)
QuizPayload = QuizAnswer | QuizToggle | QuizSubmit
LessonPayload = LessonDone | LessonQuiz


_VERDICT_PAYLOADS: dict[str, type[AnswerFeedback | ForgetConfirm | AccessDecision]] = {
    AnswerFeedback.TAG: AnswerFeedback,
    ForgetConfirm.TAG: ForgetConfirm,
    AccessDecision.TAG: AccessDecision,
}
_VERDICTS = {
    AnswerFeedback.TAG: ("up", "down"),
    ForgetConfirm.TAG: ("yes", "no"),
    AccessDecision.TAG: ("yes", "no"),
}
"""The two words a ``<tag>:<row id>:<word>`` payload may end in, the affirmative first."""


def decode(payload: str) -> Payload | None:
    """The typed payload of a press, or ``None`` when it is not one this bot makes."""
    tag, _, rest = payload.partition(SEPARATOR)
    if tag in (QuizAnswer.TAG, QuizToggle.TAG):
        number, _, key = rest.partition(SEPARATOR)
        delivery_id = ascii_int(number)
        if delivery_id is None or not key or SEPARATOR in key:
            return None
        return (QuizAnswer if tag == QuizAnswer.TAG else QuizToggle)(delivery_id, key)
    if tag in (QuizSubmit.TAG, LessonDone.TAG, LessonQuiz.TAG):
        delivery_id = ascii_int(rest)
        if delivery_id is None:
            return None
        if tag == QuizSubmit.TAG:
            return QuizSubmit(delivery_id)
        return LessonDone(delivery_id) if tag == LessonDone.TAG else LessonQuiz(delivery_id)
    verdicts = _VERDICTS.get(tag)
    if verdicts is not None:
        number, _, verdict = rest.partition(SEPARATOR)
        row_id = ascii_int(number)
        if row_id is None or verdict not in verdicts:
            return None
        return _VERDICT_PAYLOADS[tag](row_id, verdict == verdicts[0])
    if tag == SurveyRating.TAG:
        number, _, value = rest.partition(SEPARATOR)
        survey_id, rating = ascii_int(number), ascii_int(value)
        if survey_id is None or rating is None or rating not in RATINGS:
            return None
        return SurveyRating(survey_id, rating)
    if tag == CheckinAnswer.TAG:
        number, _, answer = rest.partition(SEPARATOR)
        delivery_id = ascii_int(number)
        if delivery_id is None or answer not in CHECKIN_ANSWERS:
            return None
        return CheckinAnswer(delivery_id, answer)
    if tag == ObservationAnswer.TAG:
        number, _, rest = rest.partition(SEPARATOR)
        place, _, answer = rest.partition(SEPARATOR)
        delivery_id, index = ascii_int(number), ascii_int(place)
        if delivery_id is None or index is None or answer not in OBSERVATION_ANSWERS:
            return None
        return ObservationAnswer(delivery_id, index, answer)
    if tag in (EnrolChoice.TAG, SettingChoice.TAG):
        what, _, value = rest.partition(SEPARATOR)
        if not what or not value:
            return None
        return (EnrolChoice if tag == EnrolChoice.TAG else SettingChoice)(what, value)
    return None
