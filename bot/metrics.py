"""Prometheus metrics of one bot process, and the one-line helpers that record them.

The metrics live in a registry of their own (:data:`REGISTRY`), not the library's global
one: ``/metrics`` (:mod:`adapters.ops`) then shows what trainbot measures and nothing a
dependency happens to register, and tests read values from it directly.

Labels take only values from short fixed lists (delivery kinds and outcomes, question
outcomes, platforms, error codes cut down by :func:`error_code`): a label per person,
chat or free-text error would make a time series per value and swamp the Prometheus
server. Every helper may be called from any thread (the client is thread-safe), so the
use cases, which run in worker threads, record their own figures.

docs/operations.md lists the metrics and what each label means.
"""

from __future__ import annotations

import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from bot.store.models import DeliveryKind

# A "<name>_created" timestamp beside every series doubles the output and tells an
# operator nothing a process start time does not.
disable_created_metrics()

REGISTRY = CollectorRegistry(auto_describe=True)

# What happened to a push, as the dispatcher records it on the delivery row.
SENT = "sent"
UNCONFIRMED = "unconfirmed"  # the platform did not answer in time; may have arrived
SKIPPED = "skipped"
RETRYING = "retrying"  # this pass's tries failed; a later pass tries again
FAILED = "failed"
UNREACHABLE = "unreachable"  # the person blocked the bot or left
DELIVERY_OUTCOMES = (SENT, UNCONFIRMED, SKIPPED, RETRYING, FAILED, UNREACHABLE)

# What a question got.
ANSWERED = "answered"
DECLINED = "declined"  # the materials do not cover it
UNAVAILABLE = "unavailable"  # the Q&A index cannot be used now
QUESTION_OUTCOMES = (ANSWERED, DECLINED, UNAVAILABLE)

OTHER = "other"
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")

DELIVERIES = Counter(
    "trainbot_deliveries",
    "Pushes by kind and outcome, as recorded on their delivery rows.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
DISPATCH_LAG = Histogram(
    "trainbot_dispatch_lag_seconds",
    "From the moment a push was due to the moment the platform accepted it.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
    registry=REGISTRY,
)
QUESTIONS = Counter(
    "trainbot_questions",
    "Questions asked of the course materials, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
ASK_SECONDS = Histogram(
    "trainbot_ask_seconds",
    "Time to answer a question: reading it, searching, writing the answer, storing it.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10),
    registry=REGISTRY,
)
PLATFORM_ERRORS = Counter(
    "trainbot_platform_errors",
    "Failed calls to send to a chat platform, by platform and error code.",
    ["platform", "code"],
    registry=REGISTRY,
)
EVENTS = Counter(
    "trainbot_events",
    "Events (messages, commands, button presses) received from people, by platform.",
    ["platform"],
    registry=REGISTRY,
)
INDEX_VERSION = Gauge(
    "trainbot_index_version",
    "The version of the Q&A index this process answers from (0: not known).",
    registry=REGISTRY,
)


# Every combination starts at 0, so a rate or an alert sees the series before its first
# event (a counter that appears only when it first moves hides that first increase).
for _kind in DeliveryKind:
    for _outcome in DELIVERY_OUTCOMES:
        DELIVERIES.labels(kind=_kind.value, outcome=_outcome)
for _outcome in QUESTION_OUTCOMES:
    QUESTIONS.labels(outcome=_outcome)


def delivery(kind: str, outcome: str) -> None:
    """Count one push outcome (``kind`` is a delivery kind, ``outcome`` one of
    :data:`DELIVERY_OUTCOMES`)."""
    DELIVERIES.labels(kind=kind, outcome=outcome).inc()


def dispatch_lag(seconds: float) -> None:
    """Record how long after its due moment a push was accepted (never below zero)."""
    DISPATCH_LAG.observe(max(0.0, seconds))


def question(outcome: str, seconds: float) -> None:
    """Count one question by outcome (:data:`QUESTION_OUTCOMES`) and how long it took."""
    QUESTIONS.labels(outcome=outcome).inc()
    ASK_SECONDS.observe(max(0.0, seconds))


def platform_error(platform: str, code: str | int) -> None:
    """Count a failed send; ``code`` is cut down to a bounded set by :func:`error_code`."""
    PLATFORM_ERRORS.labels(platform=platform, code=error_code(code)).inc()


def event(platform: str) -> None:
    """Count one event received from a person on ``platform``."""
    EVENTS.labels(platform=platform).inc()


def set_index_version(version: int) -> None:
    """Say which version of the Q&A index this process now answers from."""
    INDEX_VERSION.set(version)


def error_code(code: str | int) -> str:
    """An HTTP status or a platform's error word as a label value, or ``other``.

    Slack's error words (``ratelimited``, ``channel_not_found``) are a documented, finite
    list; anything that is not a short lower-case word (a message, a URL) becomes
    ``other`` so an unexpected text cannot create a series of its own.
    """
    text = str(code).strip().lower()
    return text if _CODE.match(text) else OTHER


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def value(name: str, **labels: str) -> float:
    """A sample's current value (0 when it was never recorded), e.g.
    ``value("trainbot_deliveries_total", kind="lesson", outcome="sent")``."""
    found = REGISTRY.get_sample_value(name, labels)
    return 0.0 if found is None else found
