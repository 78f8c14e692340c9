"""The statistics behind an experiment's verdict: intervals, tests and sample sizes.

Two kinds of outcome, each with the test that suits it:

- a **proportion** per unit (completed the lessons: yes/no; reported applying: yes/no):
  per-variant Wilson score intervals, the difference with Newcombe's hybrid score
  interval, and Fisher's exact test (exact at any sample size, where a chi-square
  approximation misleads on the small groups a training team has);
- a **mean** per unit (a person's first-try accuracy, a share in [0, 1]): Welch's t-test
  and its interval for the difference, which does not assume the variants' spreads are
  equal.

The sample size is what each variant needs for a two-sided test at ``alpha`` to detect
the difference seen so far with probability ``power`` (the normal approximation, the
usual planning formula); ``None`` when no difference was seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev, variance

from scipy import stats as scipy_stats

_NORMAL = NormalDist()


@dataclass(frozen=True)
class Interval:
    """A confidence interval."""

    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """One variant against the control: the difference, its interval and the test."""

    difference: float  # variant minus control
    interval: Interval
    p_value: float
    test: str  # "fisher" or "welch"
    needed_per_variant: int | None  # for the difference seen; None without one


def wilson(successes: int, total: int, *, confidence: float = 0.95) -> Interval | None:
    """The Wilson score interval of a proportion; ``None`` without observations."""
    if total <= 0:
        return None
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    share = successes / total
    denominator = 1 + z * z / total
    centre = (share + z * z / (2 * total)) / denominator
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(values: list[float], *, confidence: float = 0.95) -> Interval | None:
    """Student's t interval of a mean; ``None`` with fewer than two values."""
    if len(values) < 2:
        return None
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, len(values) - 1)) * stdev(values)
    half /= math.sqrt(len(values))
    mean = fmean(values)
    return Interval(mean - half, mean + half)


def compare_proportions(
    control: tuple[int, int],
    variant: tuple[int, int],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Comparison | None:
    """Compare two proportions given as ``(successes, total)``; ``None`` if either is empty.

    The interval of the difference is Newcombe's hybrid score interval (built from the two
    Wilson intervals); the p-value is Fisher's exact test, two-sided.
    """
    (c_yes, c_all), (v_yes, v_all) = control, variant
    if c_all <= 0 or v_all <= 0:
        return None
    confidence = 1 - alpha
    c_share, v_share = c_yes / c_all, v_yes / v_all
    c_ci, v_ci = (
        wilson(c_yes, c_all, confidence=confidence),
        wilson(v_yes, v_all, confidence=confidence),
    )
    assert c_ci is not None and v_ci is not None
    difference = v_share - c_share
    low = difference - math.sqrt((v_share - v_ci.low) ** 2 + (c_ci.high - c_share) ** 2)
    high = difference + math.sqrt((v_ci.high - v_share) ** 2 + (c_share - c_ci.low) ** 2)
    table = [[v_yes, v_all - v_yes], [c_yes, c_all - c_yes]]
    p_value = float(scipy_stats.fisher_exact(table, alternative="two-sided").pvalue)
    return Comparison(
        difference,
        Interval(max(-1.0, low), min(1.0, high)),
        min(1.0, p_value),
        "fisher",
        sample_size_proportions(c_share, v_share, alpha=alpha, power=power),
    )


def compare_means(
    control: list[float],
    variant: list[float],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Comparison | None:
    """Compare two means with Welch's t-test; ``None`` unless each side has 2+ values."""
    if len(control) < 2 or len(variant) < 2:
        return None
    difference = fmean(variant) - fmean(control)
    c_var, v_var = variance(control), variance(variant)
    c_term, v_term = c_var / len(control), v_var / len(variant)
    spread = math.sqrt(c_term + v_term)
    if spread == 0:
        # Every value alike on both sides: no spread to test against.
        p_value = 1.0 if difference == 0 else 0.0
        return Comparison(difference, Interval(difference, difference), p_value, "welch", None)
    freedom = (c_term + v_term) ** 2 / (
        c_term**2 / (len(control) - 1) + v_term**2 / (len(variant) - 1)
    )
    statistic = difference / spread
    p_value = float(2 * scipy_stats.t.sf(abs(statistic), freedom))
    half = float(scipy_stats.t.ppf(1 - alpha / 2, freedom)) * spread
    pooled_sd = math.sqrt((c_var + v_var) / 2)
    return Comparison(
        difference,
        Interval(difference - half, difference + half),
        p_value,
        "welch",
        sample_size_means(difference, pooled_sd, alpha=alpha, power=power),
    )


def sample_size_proportions(
    first: float, second: float, *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """People per variant to detect ``first`` vs ``second`` (two-sided, normal approximation)."""
    if first == second:
        return None
    z_alpha = _NORMAL.inv_cdf(1 - alpha / 2)
    z_power = _NORMAL.inv_cdf(power)
    mean = (first + second) / 2
    numerator = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(
        first * (1 - first) + second * (1 - second)
    )
    return math.ceil(numerator**2 / (first - second) ** 2)


def sample_size_means(
    difference: float, sd: float, *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Units per variant to detect a mean ``difference`` with spread ``sd``."""
    if difference == 0 or sd <= 0:
        return None
    z_alpha = _NORMAL.inv_cdf(1 - alpha / 2)
    z_power = _NORMAL.inv_cdf(power)
    return math.ceil(2 * (z_alpha + z_power) ** 2 * sd**2 / difference**2)


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (several variants against one control), in the given order."""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


__all__ = [
    "Comparison",
    "Interval",
    "compare_means",
    "compare_proportions",
    "holm",
    "mean_interval",
    "sample_size_means",
    "sample_size_proportions",
    "wilson",
]
