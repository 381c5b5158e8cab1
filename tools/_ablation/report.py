"""Rows of the ablation report from the runs, and the report itself:
``ablation.md`` (tables, intervals, verdicts), ``ablation.json`` (every
number), ``ablation.png`` (PCKh vs threshold; held-out PCKh@0.5 vs
iteration, every curve to its end)."""
import json
import os.path as osp
from typing import Dict, List

import matplotlib
import numpy as np

from hg_plugin.evaluation.mpii_pckh_curve import REPORTED

from .stats import (FLAT_GAIN, MARGIN, called, converged, equivalent, holm,
                    interval, last_quarter_gain, mean_std, verdict)
from .variants import (GROUPS, REFERENCES, VARIANTS, model_cost, settings,
                       training_key)

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

METRICS = ('PCK', 'PCKh@0.2', 'PCK@0.1', 'AUC')  # PCK: PCKh@0.5


def test_of(name: str) -> str:
    """The test (of its training's) that a variant's metrics come from."""
    return 'dark' if settings(name)['codec'] == 'dark' else ''


def metrics_of(result: Dict, name: str) -> Dict:
    """A variant's test metrics from its training's result."""
    return result['tests'][test_of(name)]


def mean_curve(runs: List[Dict]) -> List[List[float]]:
    """(iteration, PCKh@0.5) of the runs' mean held-out curve."""
    steps = [step for step, *_ in runs[0]['val_curve']]
    return [[step, float(np.mean([r['val_curve'][i][1] for r in runs]))]
            for i, step in enumerate(steps)]


def variant_row(name: str, runs: List[Dict]) -> Dict:
    """A variant's numbers from its runs (one per seed, in seed order):
    every metric's per-seed values, their mean +- std, the mean curve."""
    tests = [metrics_of(r, name) for r in runs]
    params, macs = model_cost(settings(name))
    val = mean_curve(runs)
    return dict(
        name=name, group=VARIANTS[name][0], label=VARIANTS[name][1],
        key=[str(v) for v in training_key(settings(name))],
        seeds=len(runs), seed_ids=[r.get('seed') for r in runs],
        params=params, macs=macs,
        train_s=float(np.mean([r['train_time'] for r in runs])),
        values={k: [m[k] for m in tests] for k in METRICS},
        **{k: mean_std([m[k] for m in tests]) for k in METRICS},
        curve=[float(np.mean([m[f'PCKh@{t:g}'] for m in tests]))
               for t in REPORTED],
        val=val, last_quarter_gain=last_quarter_gain(val) if val else None)


def _difference_of(a, b, paired: bool, gains: Dict[str, float]) -> Dict:
    iv = interval(a, b, paired)
    return dict(diff=iv[0], ci95=[iv[1], iv[2]], p=iv[3],
                paired=paired, equivalent=equivalent(a, b, paired),
                verdict=verdict(iv, gains, equivalent(a, b, paired)))


def _holm(diffs: List[Dict]) -> None:
    """Holm within one question's family: ``holm`` says whether a called
    difference survives the correction."""
    keep = holm([d['p'] for d in diffs])
    for d, k in zip(diffs, keep):
        d['holm'] = bool(k and called((d['diff'], *d['ci95'])))


def compare(rows: List[Dict]) -> None:
    """Each row gains its difference to its group's reference (PCKh@0.5 and
    PCKh@0.1; paired where both are the same trained models, Welch
    otherwise), the verdict it supports and, for PCKh@0.5, whether Holm's
    correction within the group keeps it."""
    refs = {r['group']: r for r in rows if r['name'] in REFERENCES.values()}
    family = {}
    for r in rows:
        ref = refs.get(r['group'])
        if ref is None or ref is r:
            continue
        gains = {x['label']: x['last_quarter_gain'] for x in (r, ref)
                 if x['last_quarter_gain'] is not None}
        paired = r['key'] == ref['key'] and r['seed_ids'] == ref['seed_ids']
        r['vs_reference'] = {
            k: _difference_of(r['values'][k], ref['values'][k], paired, gains)
            for k in ('PCK', 'PCK@0.1')}
        family.setdefault(r['group'], []).append(r['vs_reference']['PCK'])
    for diffs in family.values():
        _holm(diffs)


def per_stack_rows(runs: List[Dict], stacks: int) -> List[Dict]:
    """PCKh of each stack's heatmaps of the paper model (per-seed values
    kept), each earlier stack with its paired difference to the last (the
    same models), Holm within the per-stack family."""
    values = []
    for i in range(stacks):  # the last stack is the default test
        name = f'stack{i}' if i < stacks - 1 else ''
        values.append({k: [r['tests'][name][k] for r in runs]
                       for k in ('PCK', 'PCK@0.1', 'AUC')})
    out = []
    for v in values:
        row = {k: mean_std(x) for k, x in v.items()}
        row.update(seeds=len(runs), seed_ids=[r.get('seed') for r in runs],
                   values=v)
        if v is not values[-1]:
            row['vs_last'] = _difference_of(v['PCK'], values[-1]['PCK'],
                                            True, {})
        out.append(row)
    _holm([r['vs_last'] for r in out if 'vs_last' in r])
    return out


def _pm(v) -> str:
    return f'{v[0]:.1f} +- {v[1]:.1f}'


def _interval(d: Dict, label: str = '95 % CI ', short: bool = False) -> str:
    """A difference ``d`` as text: ``+1.2 [95 % CI -0.3, +2.7], paired:
    verdict`` (``short``: the verdict without its parenthesis)."""
    low, high = d['ci95']
    said = d['verdict'].split(' (')[0] if short else d['verdict']
    how = 'paired' if d.get('paired') else 'Welch'
    holm_ = '' if 'holm' not in d or not called((d['diff'], low, high)) \
        else ('; kept by Holm' if d['holm'] else '; not kept by Holm')
    return f"{d['diff']:+.1f} [{label}{low:+.1f}, {high:+.1f}], {how}: " \
        f"{said}{holm_}"


def _difference(r: Dict, k: str) -> str:
    d = r.get('vs_reference', {}).get(k)
    return _interval(d, label='') if d else 'reference'


def _cost(r: Dict) -> str:
    return f"{r['params'] / 1e6:.2f}M params, {r['macs'] / 1e6:.0f} MMACs"


def answers(rows: List[Dict], per_stack=None, costs=None,
            budget: str = '') -> List[str]:
    """One sentence per comparison, its numbers, interval, cost and fixed
    budget in it (PCKh@0.5 and PCKh@0.1), then the per-stack numbers and
    the backward readings' costs: what the README's "Ablations" may say,
    and nothing more."""
    refs = {r['group']: r for r in rows if r['name'] in REFERENCES.values()}
    out = []
    for r in rows:
        d = r.get('vs_reference', {})
        if not d:
            continue
        ref = refs[r['group']]
        out.append(
            f"- {info_title(r['group'])}: {r['label']} ({_cost(r)}) vs "
            f"{ref['label']} ({_cost(ref)}), {r['seeds']} and "
            f"{ref['seeds']} seeds, at a fixed budget of "
            f"{budget_of(r, budget)}: PCKh@0.5 "
            f"{r['PCK'][0]:.1f} vs {ref['PCK'][0]:.1f}, "
            f"{_interval(d['PCK'])}; PCKh@0.1 "
            f"{r['PCK@0.1'][0]:.1f} vs {ref['PCK@0.1'][0]:.1f}, "
            f"{_interval(d['PCK@0.1'])}.")
    if per_stack:
        parts = ', '.join(f"stack {i + 1} {m['PCK'][0]:.1f}" + (
            f" ({_interval(m['vs_last'], label='', short=True)})"
            if 'vs_last' in m else '') for i, m in enumerate(per_stack))
        out.append(f'- Per stack (the paper model, PCKh@0.5, '
                   f'{per_stack[0]["seeds"]} seeds; each earlier stack\'s '
                   f'paired difference to the last [95 % CI]): {parts}.')
    rows_c = (costs or {}).get('rows', {})
    if 'backward-once' in rows_c and len(rows_c) > 1:
        once = rows_c['backward-once']
        parts = [f"{COST_LABELS[n]} {c['step_ms']:.0f} ms "
                 f"({c['step_ms'] / once['step_ms']:.2f}x), "
                 f"{c['activation_mib']:.1f} MiB "
                 f"({c['activation_mib'] / once['activation_mib']:.2f}x)"
                 for n, c in rows_c.items() if n != 'backward-once']
        out.append(
            f"- Backward readings' cost (batch {costs['batch']}, median of "
            f"{costs['repeat']} alternating steps; step time, activation "
            f"memory; vs one backward {once['step_ms']:.0f} ms, "
            f"{once['activation_mib']:.1f} MiB): " + '; '.join(parts) + '.')
    return out


def summary_lines(rows: List[Dict], per_stack=None) -> List[str]:
    """One short line per comparison (README): the variants, PCKh@0.5's
    difference with its interval and the verdict."""
    refs = {r['group']: r for r in rows if r['name'] in REFERENCES.values()}
    out = []
    for r in rows:
        d = r.get('vs_reference', {}).get('PCK')
        if d:
            out.append(f"- {info_title(r['group'])}: {r['label']} vs "
                       f"{refs[r['group']]['label']}: PCKh@0.5 "
                       f"{_interval(d, label='', short=True)}.")
    if per_stack:
        out.append('- Per stack (paper model): PCKh@0.5 ' + ', '.join(
            f"{m['PCK'][0]:.1f}" for m in per_stack) + ' from the first '
            'stack to the last.')
    return out


# the backward question's cost rows: the trained readings and the
# graph-kept one, which needs no training (its gradients are one backward's)
COST_LABELS = {'backward-once': 'one backward',
               'backward-kept': 'per-stack backward, graph kept',
               'backward-apart': 'stacks trained apart',
               'backward-immediate': 'immediate update'}


def budget_of(r: Dict, budget: str) -> str:
    """``budget`` (the reference schedule, e.g. '12.8 epochs (2400
    iterations of batch 16)') times the variant's schedule."""
    times = settings(r['name'])['schedule']
    return budget if times == 1 else f'{times}x {budget}'


def info_title(group: str) -> str:
    return {'sup': 'Supervision', 'stacks': 'Stacks',
            'budget': 'Stacks at 2x the budget',
            'backward': 'Backward', 'res': 'Resolution',
            'heatmap': 'Heatmaps'}.get(group, group)


def markdown(rows, per_stack, costs, info, said: List[str]) -> List[str]:
    lines = ['# Ablations (tools/ablation.py)', '', *info['intro'], '',
             '## Answers (one sentence per comparison, by the rule above)',
             '', *said, '']
    for g in GROUPS:
        group = [r for r in rows if r['group'] == g]
        if not group:
            continue
        lines += [f'## {info["titles"][g]}', '',
                  '| variant | seeds | PCKh@0.5 | PCKh@0.2 | PCKh@0.1 | '
                  'AUC 0-0.5 | last-quarter gain | PCKh@0.5 vs reference '
                  '[95 % CI] | PCKh@0.1 vs reference [95 % CI] | params | '
                  'MMACs | train s |', '|' + '---|' * 12]
        for r in group:
            gain = r['last_quarter_gain']
            flat = '' if gain is None else f'{gain:+.1f}' + (
                '' if converged(gain) else ' *not converged*')
            lines.append(
                f"| {r['label']} | {r['seeds']} | {_pm(r['PCK'])} | "
                f"{_pm(r['PCKh@0.2'])} | {_pm(r['PCK@0.1'])} | "
                f"{_pm(r['AUC'])} | {flat} | {_difference(r, 'PCK')} | "
                f"{_difference(r, 'PCK@0.1')} | {r['params'] / 1e6:.3f}M | "
                f"{r['macs'] / 1e6:.0f} | {r['train_s']:.0f} |")
        if g == 'backward' and costs:
            lines += ['', 'One training step at the grid\'s batch, the '
                      'readings alternating in one process (median of '
                      f'{costs["repeat"]}); activation memory: the '
                      'saved-for-backward tensors autograd holds at their '
                      'peak. The graph-kept reading is not trained: its '
                      'gradients are one backward\'s (tests/models/'
                      'pose_estimators/test_stagewise_topdown.py).', '',
                      '| reading | step ms | activation MiB |',
                      '|---|---|---|']
            for name, c in costs['rows'].items():
                lines.append(f'| {COST_LABELS[name]} | {c["step_ms"]:.0f} '
                             f'| {c["activation_mib"]:.1f} |')
        lines.append('')
    if per_stack:
        lines += ['## Per-stack accuracy of the paper model (its Fig. 7 as '
                  'numbers)', '', '| stack | PCKh@0.5 | PCKh@0.1 | AUC | '
                  'PCKh@0.5 vs the last stack [95 % CI] |',
                  '|---|---|---|---|---|']
        for i, m in enumerate(per_stack):
            vs = _interval(m['vs_last']) if 'vs_last' in m \
                else 'the prediction'
            lines.append(f'| {i + 1} | {_pm(m["PCK"])} | '
                         f'{_pm(m["PCK@0.1"])} | {_pm(m["AUC"])} | {vs} |')
    return lines


def plot(rows: List[Dict], path: str) -> None:
    groups = [g for g in GROUPS if any(r['group'] == g for r in rows)]
    if not groups:
        return
    fig, axes = plt.subplots(2, len(groups), figsize=(4.5 * len(groups), 8),
                             squeeze=False)
    for j, g in enumerate(groups):
        for r in (r for r in rows if r['group'] == g):
            axes[0][j].plot(REPORTED, r['curve'], marker='.', label=r['label'])
            if r['val']:
                it, pck = zip(*r['val'])
                axes[1][j].plot(it, pck, marker='.', label=r['label'])
        axes[0][j].set(title=f'{g}: PCKh vs threshold',
                       xlabel='threshold (head size)', ylabel='PCKh %')
        axes[1][j].set(title=f'{g}: held-out PCKh@0.5',
                       xlabel='iteration', ylabel='PCKh@0.5 %')
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


README_START = '<!-- ablation answers: written by tools/ablation.py --readme -->'
README_END = '<!-- /ablation answers -->'


def readme_block(text: str, path: str) -> tuple:
    """(before, the answers, after) of ``text`` around the markers; one
    error line naming ``path`` and the fix when they are missing."""
    if text.count(README_START) != 1 or text.count(README_END) != 1:
        raise ValueError(f'{path}: needs the lines {README_START!r} and '
                         f'{README_END!r} once each around the ablation '
                         'answers; add them or drop --readme')
    before, rest = text.split(README_START)
    block, after = rest.split(README_END)
    return before, block, after


def readme_lines(summary: List[str], missing: List[str],
                 report: str) -> List[str]:
    """The README's ablation block: one line per answer of the report (its
    ``summary``: sentences with every number are in the report), and the
    questions it does not answer yet."""
    lines = [f'From [{report}]({report}), where each sentence has its '
             'numbers, costs and budget:', '', *summary]
    if missing:
        lines += ['', 'Not answered yet (their runs are not in the report): '
                  + '; '.join(missing) + '.']
    return lines


def write_readme(path: str, lines: List[str]) -> None:
    """Replace the ablation block of README ``path`` with ``lines``."""
    with open(path) as f:
        before, _, after = readme_block(f.read(), path)
    block = '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(f'{before}{README_START}\n{block}\n{README_END}{after}')


def write(out: str, rows, per_stack, costs, info) -> List[str]:
    """Write the report; return its summary lines (for the README)."""
    said = answers(rows, per_stack, costs, info.get('budget', ''))
    with open(osp.join(out, 'ablation.md'), 'w') as f:
        f.write('\n'.join(markdown(rows, per_stack, costs, info, said)) +
                '\n')
    with open(osp.join(out, 'ablation.json'), 'w') as f:
        json.dump(dict(info, rows=rows, per_stack=per_stack, costs=costs,
                       flat_gain=FLAT_GAIN, answers=said,
                       summary=summary_lines(rows, per_stack)), f, indent=1)
    plot(rows, osp.join(out, 'ablation.png'))
    return summary_lines(rows, per_stack)
