"""The statistics that decide every claim of the ablation report.

- mean +- std (sample std, ddof=1) over seeds, fixed before any run
  (variants.SEEDS; nothing is added after looking);
- the difference of a variant to its group's reference with a 95 %
  interval: *paired* (t on the per-seed differences) where both are the
  same trained models (another decoding, another stack's output), Welch's
  (unequal variances) otherwise; a difference is *called* only when the
  interval excludes zero;
- "no difference" is never said from an interval that includes zero alone:
  two one-sided tests at +-``MARGIN`` points (the 90 % interval inside
  +-``MARGIN``) say *equivalent within MARGIN*, else *inconclusive*;
- each question (a group of the report) is one family of tests; Holm's
  correction within it says which called differences survive;
- the last-quarter gain of a held-out curve: PCKh@0.5 at the end minus at
  3/4 of the schedule; a variant gaining ``FLAT_GAIN`` points or more there
  has not flattened, and no conclusion is drawn from it.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy import stats

FLAT_GAIN = 2.0      # PCKh@0.5 points over the last quarter
MARGIN = 1.5         # PCKh@0.5 points: the equivalence margin


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    v = np.asarray(values, float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def _t_interval(diff, se, dof, level):
    if not np.isfinite(dof) or dof <= 0:
        return diff, float('-inf'), float('inf'), 1.0
    if se == 0:
        return diff, diff, diff, 0.0 if diff else 1.0
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    p = float(2 * stats.t.sf(abs(diff) / se, dof))
    return diff, diff - half, diff + half, p


def welch_interval(a: Sequence[float], b: Sequence[float],
                   level: float = 0.95) -> Tuple[float, float, float, float]:
    """(mean(a) - mean(b), low, high, p): the ``level`` Welch interval and
    the two-sided p-value of Welch's t-test."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(a.mean() - b.mean())
    if min(len(a), len(b)) < 2:  # no spread to judge by
        return diff, float('-inf'), float('inf'), 1.0
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) \
        if se else 1.0
    return _t_interval(diff, se, dof, level)


def paired_interval(a: Sequence[float], b: Sequence[float],
                    level: float = 0.95) -> Tuple[float, float, float, float]:
    """(mean(a - b), low, high, p) of paired values (the same seeds' same
    models): the t interval of the per-seed differences."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if len(d) < 2:
        return float(d.mean()), float('-inf'), float('inf'), 1.0
    se = float(d.std(ddof=1) / np.sqrt(len(d)))
    return _t_interval(float(d.mean()), se, len(d) - 1, level)


def interval(a, b, paired: bool, level: float = 0.95):
    return (paired_interval if paired else welch_interval)(a, b, level)


def called(iv) -> bool:
    """A difference is called only when its interval excludes zero."""
    return iv[1] > 0 or iv[2] < 0


def equivalent(a, b, paired: bool, margin: float = MARGIN) -> bool:
    """Two one-sided tests at level 0.05 each: the 90 % interval lies
    inside +-``margin``."""
    _, low, high, _ = interval(a, b, paired, 0.90)
    return -margin < low and high < margin


def holm(pvalues: Sequence[float], alpha: float = 0.05) -> List[bool]:
    """Holm's step-down procedure: which of ``pvalues`` are rejected at
    family-wise level ``alpha``."""
    order = np.argsort(pvalues)
    keep = [False] * len(pvalues)
    for rank, i in enumerate(order):
        if pvalues[i] > alpha / (len(pvalues) - rank):
            break
        keep[i] = True
    return keep


def last_quarter_gain(curve: List[Tuple[int, float]]) -> float:
    """PCKh@0.5 at the last evaluation minus at the last one at or before
    3/4 of the schedule (``curve``: (iteration, PCKh@0.5) pairs)."""
    end_step, end = curve[-1]
    before = [p for s, p in curve if s <= 0.75 * end_step]
    return float(end - (before[-1] if before else curve[0][1]))


def converged(gain: float) -> bool:
    return gain < FLAT_GAIN


def verdict(iv, gains: Dict[str, float], is_equivalent: bool) -> str:
    """The sentence a comparison supports (``iv``: its 95 % interval)."""
    late = [n for n, g in gains.items() if not converged(g)]
    if late:
        return f'not flat ({", ".join(late)}): no conclusion'
    if called(iv):
        return 'higher' if iv[0] > 0 else 'lower'
    if is_equivalent:
        return f'equivalent within {MARGIN:g}'
    return f'inconclusive (neither a difference nor equivalence within ' \
           f'{MARGIN:g})'
