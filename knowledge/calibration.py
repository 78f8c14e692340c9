"""Abstention calibrated to the course an index serves: what is stored, and how it is used.

The confidence signals (:func:`knowledge.answer.signals`) rank covered questions above
uncovered ones on any course, but where the line falls, and which signals matter most,
depend on the course: on an outside Wikipedia corpus every question sits far from
everyday talk, so the model fitted on our sample course answered nearly everything there
(docs/benchmarks.md). So every ingest measures the course's own line from questions it
makes up about itself (:mod:`knowledge.probes`) and stores the result beside the manifest
as ``calibration.json``:

- a **course model**: a logistic model over the same signals, fitted on the course's
  probe questions (answerable) against near misses and everyday questions (not);
- the **mix**: the answer's confidence is ``sigmoid(c * course + (1 - c) * general)``
  on the logit scale, where ``general`` is the shipped model (:data:`knowledge.answer.CONFIDENCE`)
  and ``c`` is :data:`COURSE_WEIGHT`. Probes are made from the materials' own words, so
  they are easier than an employee's paraphrase or a question in the other language;
  trusted alone, the course model declined most such questions on the sample course;
- the **threshold scale**: the mixed logit of the course's probe questions at the
  percentiles 0 to 20, and the **negatives' line**: the near misses and everyday questions
  at their :data:`NEGATIVE_PERCENTILE`;
- the **separation**: how well the mixed logit tells the probe questions from the near
  misses and everyday questions (AUC, 0.5 to 1).

Where the line falls (:meth:`Calibration.threshold`) depends on the separation:

- a course whose probes and near misses **separate cleanly** (AUC at least
  :data:`SEPARATED`; measured on two outside corpora, 0.99) gets the negatives' line: the
  bot declines what its own near misses look like, 97 of 100 of them (a made-up near miss
  is easier to tell apart than a real one, so the line sits high among them);
- on a course whose files **repeat each other** (the sample course: a guide, an FAQ and a
  playbook on the same topics; AUC 0.88), a probe asked with its file left out is still
  answered by another file, so the "near misses" are no picture of what to decline; there
  the line is the probe percentile named by the strictness, or halfway between it and the
  negatives' line when that lies below.

The strictness (``TRAINBOT_QA_STRICTNESS``, 0-20, default 1) moves the line by whole
percentiles of the course's own probe questions, so it can be changed without ingesting
again.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

VERSION = 2
"""Bumped when probes or the fit change: an index calibrated by an older version is calibrated
again at its next ingest."""
FILE_NAME = "calibration.json"
COURSE_WEIGHT = 0.3
"""Share of the course model in the mixed logit (see the module docstring; measured in
docs/benchmarks.md)."""
DEFAULT_STRICTNESS = 1.0
"""Percentiles of the course's own probe questions the line sits at or is moved by (0-20)."""
MAX_STRICTNESS = 20
NEGATIVE_PERCENTILE = 97
"""The percentile of the near misses and everyday questions the negatives' line is drawn at.

Made-up near misses are easier to tell apart than real ones (on CMRC they hold 23% of their
words in the top passages, real out-of-corpus questions 32%), so declining 90 of 100 real
ones takes a line high among them. Chosen on the external corpora (docs/benchmarks.md,
where three splits of each are measured); not a held-out figure."""
SEPARATED = 0.95
"""The separation (AUC) from which a course's near misses place the line (module docstring)."""


def _logit(probability: float) -> float:
    clipped = min(max(probability, 1e-9), 1 - 1e-9)
    return math.log(clipped / (1 - clipped))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Calibration:
    """One index's abstention calibration.

    Attributes:
        weights: the course model's weight per signal.
        bias: the course model's bias.
        course_weight: share of the course model in the mixed logit.
        scale: the mixed logit of the probe questions at percentiles 0, 1, ... 20.
        negatives: the mixed logit of the near misses and everyday questions at their
            :data:`NEGATIVE_PERCENTILE`.
        counts: how many probe questions, near misses and everyday questions it was fitted on.
        version: :data:`VERSION` when it was made.
        separation: AUC of the mixed logit, probe questions against the near misses and
            everyday questions (0 in a calibration from before it was measured).
    """

    weights: dict[str, float]
    bias: float
    course_weight: float
    scale: list[float]
    negatives: float = -math.inf
    counts: dict[str, int] = field(default_factory=dict)
    version: int = VERSION
    separation: float = 0.0

    def logit(self, features: Mapping[str, float], general: float) -> float:
        """The mixed logit for a question's signals, given the general model's probability."""
        course = self.bias + sum(weight * features[name] for name, weight in self.weights.items())
        return self.course_weight * course + (1 - self.course_weight) * _logit(general)

    def confidence(self, features: Mapping[str, float], general: float) -> float:
        """The calibrated confidence (0..1) for a question's signals."""
        return _sigmoid(self.logit(features, general))

    def threshold(self, strictness: float = DEFAULT_STRICTNESS) -> float:
        """The confidence below which the bot declines, at ``strictness`` (see the module
        docstring).

        On a course whose probes separate cleanly, the negatives' line, moved up or down by
        as much as the probe percentile named by ``strictness`` differs from the default's.
        Otherwise that probe percentile (interpolated between whole percents), or, when even
        the negatives' line lies below it, halfway between the two: probes use the
        materials' own words, so an employee's question on a small, clear-cut course scores
        below all of them and above the negatives.
        """
        value = self._percentile(strictness)
        if self.separation >= SEPARATED:
            value = self.negatives + value - self._percentile(DEFAULT_STRICTNESS)
        elif self.negatives < value:
            value = (value + self.negatives) / 2
        return _sigmoid(value)

    def _percentile(self, strictness: float) -> float:
        """The probe questions' mixed logit at ``strictness`` percent (0-20, interpolated)."""
        position = min(max(strictness, 0.0), float(len(self.scale) - 1))
        low = int(position)
        high = min(low + 1, len(self.scale) - 1)
        return self.scale[low] + (self.scale[high] - self.scale[low]) * (position - low)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (see :meth:`from_json`)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        """Read :meth:`to_json`'s form; ``ValueError`` when it is not one."""
        try:
            weights = {str(name): float(value) for name, value in data["weights"].items()}
            scale = [float(value) for value in data["scale"]]
            calibration = cls(
                weights=weights,
                bias=float(data["bias"]),
                course_weight=float(data["course_weight"]),
                scale=scale,
                negatives=float(data.get("negatives", -math.inf)),
                counts={str(k): int(v) for k, v in data.get("counts", {}).items()},
                version=int(data.get("version", 0)),
                separation=float(data.get("separation", 0.0)),
            )
        except (AttributeError, KeyError, TypeError) as exc:
            raise ValueError(f"not a calibration: {exc}") from exc
        if len(scale) != MAX_STRICTNESS + 1:
            raise ValueError("not a calibration: the threshold scale has the wrong length")
        return calibration


def read(path: Path) -> Calibration | None:
    """The calibration stored at ``path``; ``None`` when there is none or it is unreadable."""
    if not path.is_file():
        return None
    try:
        return Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        logger.warning("ignoring %s (%s); 'trainbot ingest' calibrates again", path, exc)
        return None


def separation(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The AUC of scores: the chance a positive scores above a negative (ties count half)."""
    if not len(positives) or not len(negatives):
        return 0.0
    high = np.asarray(positives, dtype=float)[:, None]
    low = np.asarray(negatives, dtype=float)[None, :]
    return float(np.mean((high > low) + 0.5 * (high == low)))


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[int],
    names: Sequence[str],
    signs: Mapping[str, int],
    *,
    penalty: float = 0.01,
    steps: int = 2000,
) -> tuple[dict[str, float], float]:
    """A class-balanced logistic fit with each weight kept on its ``signs`` side.

    The signals are standardised for the fit (a small L2 ``penalty`` then treats them
    alike) and the weights turned back to raw signal units. The general model is fitted
    by it too (``benchmarks/qa_eval.py``, ``fit_confidence``); deterministic.

    Returns:
        (weight per signal, bias).
    """
    x = np.array([[row[name] for name in names] for row in rows], dtype=float)
    y = np.array(labels, dtype=float)
    balance = np.where(y == 1, 1.0, y.sum() / max(1.0, len(y) - y.sum()))
    mean, spread = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / spread
    weights = np.zeros(len(names))
    side = np.array([signs.get(name, 0) for name in names])
    bias = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ weights + bias)))
        error = (p - y) * balance
        weights -= 0.3 * (z.T @ error / len(y) + penalty * weights)
        bias -= 0.3 * float(np.mean(error))
        weights = np.where(side > 0, np.maximum(weights, 0.0), weights)
        weights = np.where(side < 0, np.minimum(weights, 0.0), weights)
    raw = weights / spread
    raw_bias = bias - float(np.sum(weights * mean / spread))
    return (
        {name: round(float(value), 4) for name, value in zip(names, raw, strict=True)},
        round(raw_bias, 4),
    )
