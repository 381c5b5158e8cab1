"""The statistics that decide every claim of the ablation report.

- mean +- std (sample std, ddof=1) over seeds;
- the difference of a variant to its group's reference with a 95 %
  Welch interval (unequal variances, Welch-Satterthwaite degrees of
  freedom); a difference is *called* only when the interval excludes zero;
- the last-quarter gain of a held-out curve: PCKh@0.5 at the end minus at
  3/4 of the schedule; a variant gaining 2 points or more there has not
  converged, and no conclusion is drawn from it;
- which comparisons need more seeds: a difference within twice the larger
  spread gets 5 seeds instead of 3 (where both variants converged).
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy import stats

FLAT_GAIN = 2.0      # PCKh@0.5 points over the last quarter
FEW_SEEDS, MORE_SEEDS = 3, 5


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    v = np.asarray(values, float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def welch_interval(a: Sequence[float], b: Sequence[float],
                   level: float = 0.95) -> Tuple[float, float, float]:
    """(mean(a) - mean(b), low, high): the ``level`` Welch interval."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(a.mean() - b.mean())
    if min(len(a), len(b)) < 2:  # no spread to judge by
        return diff, float('-inf'), float('inf')
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return diff, diff - half, diff + half


def called(interval: Tuple[float, float, float]) -> bool:
    """A difference is called only when its interval excludes zero."""
    _, low, high = interval
    return low > 0 or high < 0


def last_quarter_gain(curve: List[Tuple[int, float]]) -> float:
    """PCKh@0.5 at the last evaluation minus at the last one at or before
    3/4 of the schedule (``curve``: (iteration, PCKh@0.5) pairs)."""
    end_step, end = curve[-1]
    before = [p for s, p in curve if s <= 0.75 * end_step]
    return float(end - (before[-1] if before else curve[0][1]))


def converged(gain: float) -> bool:
    return gain < FLAT_GAIN


def needs_more_seeds(a: Sequence[float], b: Sequence[float],
                     max_seeds: int = MORE_SEEDS,
                     gains: Sequence[float] = ()) -> bool:
    """A difference within twice the larger seed spread, on fewer than
    ``max_seeds`` seeds, between variants whose curves flattened (``gains``:
    their last-quarter gains; more seeds cannot turn a comparison with a
    variant that has not converged into a conclusion)."""
    if min(len(a), len(b)) >= max_seeds or not all(map(converged, gains)):
        return False
    spread = max(mean_std(a)[1], mean_std(b)[1])
    return abs(np.mean(a) - np.mean(b)) <= 2 * spread


def extra_seeds(seeds: Sequence[int], max_seeds: int) -> range:
    """The seeds a close call adds to ``seeds`` to have ``max_seeds``."""
    return range(max(seeds) + 1,
                 max(seeds) + 1 + max(0, max_seeds - len(seeds)))


def verdict(interval, gains: Dict[str, float]) -> str:
    """The sentence a comparison supports."""
    late = [n for n, g in gains.items() if not converged(g)]
    if late:
        return f'not converged ({", ".join(late)}): no conclusion'
    diff, low, high = interval
    if not called(interval):
        return 'no difference shown (interval includes 0)'
    return 'higher' if diff > 0 else 'lower'
