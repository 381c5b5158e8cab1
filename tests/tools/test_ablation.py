"""tools/ablation.py --quick: the plumbing (configs, training, every kind of
evaluation, the statistics, the cost measurement, report, plot), never the
outcome; and the statistics that decide the report's sentences."""
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / 'tools'))
from _ablation import report as report_lib  # noqa: E402
from _ablation import stats  # noqa: E402  (tools/ is not a package)


def test_quick_mode_writes_report_plot_and_numbers(tmp_path):
    out = tmp_path / 'docs'
    readme = tmp_path / 'README.md'
    readme.write_text(f'# x\n\n{report_lib.README_START}\nold\n'
                      f'{report_lib.README_END}\n\n## next\n')
    r = subprocess.run(
        [sys.executable, 'tools/ablation.py', '--quick', '--variants',
         'backward-apart,hm-2-dark,per-stack',
         '--work-dir', tmp_path / 'work', '--results', tmp_path / 'results',
         '--out', out, '--readme', readme],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = (out / 'ablation.md').read_text()
    for text in ('stacks trained apart', 'immediate update',
                 'per-stack backward, graph kept',
                 '1/2 (64 px), DARK decoding', 'Per-stack accuracy',
                 'activation MiB', 'Welch', 'paired', 'Holm',
                 'at a fixed budget of 1.0 epochs (8 iterations of batch 8)',
                 '## Answers'):
        assert text in report, text
    # one seed: no spread, so no interval can call a difference, and none
    # can show equivalence either
    assert re.search(r'PCKh@0.5 \d+\.\d vs \d+\.\d, [+-]\d+\.\d \[95 % CI '
                     r'-inf, \+inf\], Welch: inconclusive', report)
    data = json.loads((out / 'ablation.json').read_text())
    assert data['precision'] == 'fp32, channels-last'
    assert 'along the way; fp32, channels-last.' in report
    # each comparison brings its group's reference
    assert [row['name'] for row in data['rows']] == [
        'hm-4-msra', 'backward-once', 'backward-apart', 'hm-2-dark']
    assert len(data['per_stack']) == 4
    assert [('vs_last' in m) for m in data['per_stack']] == [True] * 3 + [
        False]
    # the sentences the README may copy: each comparison, per stack, costs
    assert [a.split(' (')[0].split(':')[0] for a in data['answers']] == [
        '- Backward', '- Heatmaps', '- Per stack',
        "- Backward readings' cost"]
    assert all(a in report for a in data['answers'])
    # --readme: the README's block is the report's answers, nothing else
    _, block, after = report_lib.readme_block(readme.read_text(), 'README')
    assert block.strip().splitlines() == report_lib.readme_lines(
        data['summary'], data['missing'], 'docs/ablation.md')
    assert block.count('\n- ') == 3  # one line per answer
    assert 'Not answered yet' in block
    assert len(data['missing']) == 4  # sup, stacks, budget, res
    assert after == '\n\n## next\n'
    for row in data['rows']:
        assert len(row['curve']) == 10 and row['params'] > 0
        assert row['val'] and row['last_quarter_gain'] is not None
        assert row['seeds'] == 1 and row['seed_ids'] == [0]
        assert len(row['values']['PCK']) == 1  # per-seed values, kept
    assert 'vs_reference' in data['rows'][2]
    assert all(len(m['values']['PCK']) == 1 for m in data['per_stack'])
    costs = data['costs']['rows']
    assert set(costs) == {'backward-once', 'backward-kept', 'backward-apart',
                          'backward-immediate'}
    assert costs['backward-apart']['activation_mib'] < \
        costs['backward-once']['activation_mib']
    # the finished runs are copied where --results says (committed)
    assert sorted(p.stem for p in (tmp_path / 'results').glob('*.json')) \
        == sorted(p.name for p in (tmp_path / 'work' / 'runs').glob('*'))
    assert (out / 'ablation.png').stat().st_size > 10000
    # a second call reuses the finished runs: nothing is trained again
    trained = sorted((tmp_path / 'work' / 'runs').glob('*/train.json'))
    stamps = [p.stat().st_mtime_ns for p in trained]
    again = subprocess.run(
        [sys.executable, 'tools/ablation.py', '--quick', '--variants',
         'hm-2-msra', '--work-dir', tmp_path / 'work', '--results',
         tmp_path / 'results', '--out', out],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert [p.stat().st_mtime_ns for p in trained] == stamps
    assert sorted((tmp_path / 'work' / 'runs').glob('*/train.json')) == \
        trained
    # --cached-only reports what is finished and trains nothing: the
    # supervision question (its last-stack run not trained) waits
    so_far = subprocess.run(
        [sys.executable, 'tools/ablation.py', '--quick', '--cached-only',
         '--variants', 'sup,backward,per-stack', '--work-dir',
         tmp_path / 'work', '--results', tmp_path / 'results', '--out', out],
        cwd=REPO, capture_output=True,
        text=True, timeout=300)
    assert so_far.returncode == 0, so_far.stderr[-2000:]
    data = json.loads((out / 'ablation.json').read_text())
    assert [row['name'] for row in data['rows']] == [
        'sup-all', 'backward-once', 'backward-apart']
    assert data['missing'][0].startswith('Paper: intermediate supervision')
    assert [a.split(':')[0] for a in data['answers']][:1] == ['- Backward']
    assert sorted(p.name for p in (tmp_path / 'work' / 'runs').glob(
        '*')) == sorted(p.parent.name for p in trained)


def test_readme_without_markers_is_one_line_before_any_run(tmp_path):
    readme = tmp_path / 'README.md'
    readme.write_text('# no markers\n')
    r = subprocess.run([sys.executable, 'tools/ablation.py', '--quick',
                        '--work-dir', tmp_path / 'work', '--results',
                        tmp_path / 'results', '--out',
                        tmp_path / 'docs', '--readme', readme], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.strip().startswith(
        f'error: --readme: {readme}: needs the lines')
    assert len(r.stderr.strip().splitlines()) == 1
    assert readme.read_text() == '# no markers\n'
    assert not (tmp_path / 'work').exists()


def test_readme_states_the_committed_reports_answers():
    """README's "Ablations" sentences are docs/ablation.json's answers."""
    data = json.loads((REPO / 'docs' / 'ablation.json').read_text())
    _, block, _ = report_lib.readme_block(
        (REPO / 'README.md').read_text(), 'README.md')
    assert block.strip().splitlines() == report_lib.readme_lines(
        data['summary'], data['missing'], 'docs/ablation.md')


def test_unknown_variant_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, 'tools/ablation.py', '--variants',
                        'sup-nope', '--work-dir', tmp_path], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.strip().startswith(
        "error: --variants: unknown 'sup-nope'")


def test_a_difference_is_called_only_when_its_interval_excludes_zero():
    apart = stats.welch_interval([80, 81, 82], [75, 76, 77])
    assert apart[0] == pytest.approx(5) and stats.called(apart)
    close = stats.welch_interval([80, 83, 77], [79, 82, 76])
    assert close[1] < 0 < close[2] and not stats.called(close)
    # the intervals and p-values are the textbook ones (scipy agrees)
    from scipy.stats import ttest_ind, ttest_rel
    a, b = np.array([70.1, 72.3, 71.0, 69.5]), np.array([68.0, 69.9, 67.2])
    d, low, high, p = stats.welch_interval(a, b)
    t = ttest_ind(a, b, equal_var=False)
    ci = t.confidence_interval(0.95)
    assert (low, high, p) == pytest.approx((ci.low, ci.high, t.pvalue))
    b4 = np.array([68.0, 69.9, 67.2, 68.4])
    d, low, high, p = stats.paired_interval(a, b4)
    t = ttest_rel(a, b4)
    ci = t.confidence_interval(0.95)
    assert (low, high, p) == pytest.approx((ci.low, ci.high, t.pvalue))


def test_pairing_sees_what_welch_misses_on_the_same_models():
    """Two decodings of the same five models: a consistent +0.3 that the
    seed spread hides from an unpaired interval."""
    msra = [88.0, 91.0, 89.5, 92.0, 90.0]
    dark = [m + 0.3 + e for m, e in zip(msra, (0, .05, -.05, .02, -.02))]
    assert not stats.called(stats.welch_interval(dark, msra))
    assert stats.called(stats.paired_interval(dark, msra))


def test_equivalence_needs_the_90_interval_inside_the_margin():
    same = [90.0, 90.5, 89.5, 90.2, 89.8]
    near = [90.3, 90.6, 89.9, 90.4, 90.1]
    assert stats.equivalent(near, same, paired=False)
    wide = [85.0, 95.0, 88.0, 93.0, 90.0]
    assert not stats.equivalent(wide, same, paired=False)
    iv = stats.welch_interval(wide, same)
    assert not stats.called(iv)
    assert stats.verdict(iv, {}, False).startswith('inconclusive')
    assert stats.verdict(stats.welch_interval(near, same), {}, True) == \
        'equivalent within 1.5'


def test_holm_keeps_only_what_survives_the_family():
    # alpha/3, alpha/2, alpha: 0.01 <= 0.0167 kept, 0.03 > 0.025 stops
    assert stats.holm([0.01, 0.03, 0.04]) == [True, False, False]
    assert stats.holm([0.04, 0.001, 0.02]) == [True, True, True]
    assert stats.holm([0.2, 0.001]) == [False, True]


def test_flatness_says_the_schedule_ended_not_convergence():
    rising = [(200, 40), (400, 55), (600, 62), (800, 66)]
    flat = [(200, 40), (400, 70), (600, 78), (800, 79)]
    assert stats.last_quarter_gain(rising) == 4
    assert not stats.converged(stats.last_quarter_gain(rising))
    assert stats.converged(stats.last_quarter_gain(flat))
    assert stats.verdict((1, 0.5, 1.5, 0.01), {'x': 4.0}, False) == \
        'not flat (x): no conclusion'


def test_seeds_are_fixed_per_group_before_any_run():
    from argparse import Namespace

    import ablation
    from _ablation import variants
    assert variants.seeds_of('sup-last') == [0, 1, 2, 3, 4]
    assert variants.seeds_of('budget-1') == [0, 1, 2]
    assert variants.seeds_of('per-stack') == [0, 1, 2, 3, 4]
    assert ablation.seeds('budget-4', Namespace(seeds=None)) == [0, 1, 2]
    assert ablation.seeds('budget-4', Namespace(seeds=[7])) == [7]
    assert not hasattr(ablation, 'seeds_to_add')  # nothing added later


def _row(name, pck, gain=0.5, key=None, group='sup'):
    return dict(name=name, group=group, label=name, last_quarter_gain=gain,
                key=key or [name], seed_ids=list(range(len(pck))),
                values={'PCK': pck, 'PCK@0.1': [20.0, 21.0, 22.0, 21.0,
                                                21.5][:len(pck)]})


def test_each_comparison_gets_its_verdict_pairing_and_holm():
    ref = _row('sup-all', [90.0, 91.0, 89.0, 90.5, 89.5])
    lower = _row('sup-last', [80.0, 81.0, 79.0, 80.5, 79.5])
    late = _row('sup-last', [89.5, 90.5, 88.5, 90.0, 89.0], gain=3.0)
    for row, said in ((lower, 'lower'),
                      (late, 'not flat (sup-last): no conclusion')):
        report_lib.compare([ref, row])
        assert row['vs_reference']['PCK']['verdict'] == said
        assert row['vs_reference']['PCK']['paired'] is False
    assert lower['vs_reference']['PCK']['holm'] is True
    # the same trained models (another decoding): paired
    hm = _row('hm-4-msra', ref['values']['PCK'], key=['k'], group='heatmap')
    dark = _row('hm-4-dark', [v + 0.2 for v in ref['values']['PCK']],
                key=['k'], group='heatmap')
    report_lib.compare([hm, dark])
    d = dark['vs_reference']['PCK']
    assert d['paired'] is True and d['verdict'] == 'higher'
    assert 'paired' in report_lib._interval(d)


def test_a_longer_schedule_is_its_own_training(tmp_path):
    """res-64-long trains 4x --iters (the reference's MACs budget at 64 px);
    the other variants' cache names do not change with it."""
    from _ablation import runs, variants
    run = dict(iters=2400, evals=8, batch=16, lr=2.5e-3, workers=0,
               data_root=str(tmp_path), data_tag='medium-v5')
    long_ = variants.settings('res-64-long')
    assert variants.iterations(long_, run) == 9600
    assert runs.run_tag(variants.training_key(variants.settings('sup-all')),
                        run, 0) == \
        '4_32_128_4_msra_all_2_medium-v5_it2400_b16_lr0.0025_seed0'
    assert variants.training_key(long_) != variants.training_key(
        variants.settings('res-64'))
    cfg = tmp_path / 'long.py'
    variants.write_variant_config(str(cfg), long_, run, 0)
    from mmengine.config import Config
    c = Config.fromfile(str(cfg))
    assert (c.train_cfg.max_iters, c.train_cfg.val_interval) == (9600, 1200)
    assert c.param_scheduler[1].T_max == 9600


def test_a_later_invocation_adds_tests_and_keeps_the_earlier_ones(
        tmp_path, monkeypatch):
    """A finished training that lacks tests (an earlier version of the
    tool asked for fewer) runs only those; the earlier ones stay in
    result.json with their time, which is copied to the committed
    results."""
    from _ablation import runs, variants
    run = dict(iters=2400, evals=8, batch=16, lr=2.5e-3, workers=0,
               data_root=str(tmp_path), data_tag='medium-v5',
               work_dir=str(tmp_path))
    s = variants.settings('sup-all')
    key = variants.training_key(s)
    work = tmp_path / 'runs' / runs.run_tag(key, run, 3)
    work.mkdir(parents=True)
    (work / 'train.json').write_text(json.dumps(
        dict(train_time=1000.0, val_curve=[[2400, 90.0]])))
    earlier = {'': {'PCK': 90.0}, 'dark': {'PCK': 90.1}}
    (work / 'result.json').write_text(json.dumps(
        dict(train_time=1000.0, val_curve=[[2400, 90.0]], tests=earlier,
             test_time=30.0)))
    called = []
    monkeypatch.setattr(runs, '_call', lambda cmd, log, env: called.append(
        cmd[cmd.index('--work-dir') + 1]))
    monkeypatch.setattr(runs, '_test_metrics', lambda out: {'PCK': 70.0})
    run['results_dir'] = str(tmp_path / 'results')
    result = runs.train_and_evaluate(key, s, 3, run, {})
    assert sorted(p.rsplit('_', 1)[-1] for p in called) == [
        'stack0', 'stack1', 'stack2']
    assert result['tests']['dark'] == {'PCK': 90.1}  # kept, not rerun
    assert set(result['tests']) == {'', 'dark', 'stack0', 'stack1',
                                    'stack2'}
    assert result['test_time'] >= 30.0
    assert json.loads((work / 'result.json').read_text()) == result
    committed = tmp_path / 'results' / f'{runs.run_tag(key, run, 3)}.json'
    assert json.loads(committed.read_text()) == result
    assert runs.cached(key, s, 3, run) == result
    # a fresh clone: the work dir is gone, the committed result is enough
    import shutil
    shutil.rmtree(work)
    assert runs.cached(key, s, 3, run) == result


def test_each_precision_trains_with_its_flags_and_is_cached_apart(
        tmp_path, monkeypatch):
    """bf16 runs (the committed ``_fast`` ones) train and test with
    ``--amp bf16`` on any CPU, fp16 (CUDA's fast preset) with ``--preset
    fast``, fp32 with neither; each precision has its own cache name, so a
    run of one is never reused for another, and a result that recorded
    another precision than its name says stops the grid."""
    from _ablation import runs, variants
    plain = dict(iters=2400, evals=8, batch=16, lr=2.5e-3, workers=0,
                 data_root=str(tmp_path), data_tag='medium-v5',
                 work_dir=str(tmp_path), results_dir=str(tmp_path / 'r'))
    bf16, fp16 = dict(plain, amp='bfloat16'), dict(plain, amp='float16')
    s = variants.settings('hm-4-dark')
    key = variants.training_key(s)
    name = '4_32_128_4_msra_all_2_medium-v5_it2400_b16_lr0.0025{}_seed0'
    assert [runs.run_tag(key, r, 0) for r in (plain, bf16, fp16)] == [
        name.format(''), name.format('_fast'), name.format('_fast-fp16')]
    plain_work = tmp_path / 'runs' / runs.run_tag(key, plain, 0)
    plain_work.mkdir(parents=True)
    tests = {'': {}, 'dark': {}, 'stack0': {}, 'stack1': {}, 'stack2': {}}
    (plain_work / 'result.json').write_text(json.dumps(dict(
        train_time=1.0, val_curve=[], tests=tests)))
    assert runs.cached(key, s, 0, plain) is not None
    assert runs.cached(key, s, 0, bf16) is None
    calls = []
    monkeypatch.setattr(runs, '_call', lambda cmd, log, env: calls.append(
        cmd))
    monkeypatch.setattr(runs, '_val_curve', lambda work: [])
    monkeypatch.setattr(runs, '_test_metrics', lambda out: {'PCK': 1.0})
    result = runs.train_and_evaluate(key, s, 0, dict(bf16, machine='m'), {})
    assert result['precision'] == 'bfloat16' and result['machine'] == 'm'
    assert [c[1] for c in calls] == ['tools/train.py'] + ['tools/test.py'] * 5
    for c in calls:
        assert c[c.index('--amp') + 1] == 'bf16' and '--preset' not in c
    calls.clear()
    runs.train_and_evaluate(key, s, 0, fp16, {})
    assert all(c[c.index('--preset') + 1] == 'fast' for c in calls)
    mislabelled = tmp_path / 'runs' / runs.run_tag(key, bf16, 1)
    mislabelled.mkdir(parents=True)
    (mislabelled / 'result.json').write_text(json.dumps(dict(
        train_time=1.0, val_curve=[], tests=tests, precision='float32')))
    with pytest.raises(RuntimeError, match='ran in float32, not the '
                       'bfloat16 its name says'):
        runs.cached(key, s, 1, bf16)


def test_the_report_says_how_the_runs_computed():
    from argparse import Namespace

    import ablation
    from hg_plugin.presets import fast_settings

    def said(preset, device, amp=None):
        return ablation.precision(Namespace(preset=preset, device=device,
                                            amp=amp))
    assert said(None, 'cpu') == said(None, 'cuda') == 'fp32, channels-last'
    assert said('fast', 'cuda') == 'float16 autocast, channels-last'
    assert said('fast', 'cpu') == '%s, channels-last' % (
        'bfloat16 autocast' if fast_settings('cpu')['amp'] else 'fp32')
    assert said(None, 'cpu', 'bf16') == 'bfloat16 autocast, channels-last'


def test_the_progress_bar_counts_iterations_and_cached_runs_as_done(
        monkeypatch):
    """The grid's ETA: a 4x schedule counts 4 runs' worth, and a cached
    run is done before the clock starts (it does not speed the rate up)."""
    import ablation
    from _ablation import variants
    from tqdm import tqdm
    run = dict(iters=100, jobs=2)
    ref, long_ = variants.settings('sup-all'), variants.settings(
        'res-64-long')
    wanted = {(variants.training_key(ref), 0): ref,
              (variants.training_key(long_), 0): long_}
    cached_key = (variants.training_key(ref), 0)
    monkeypatch.setattr(ablation, 'cached', lambda key, s, seed, run:
                        {} if (key, seed) == cached_key else None)
    monkeypatch.setattr(ablation, 'model_cost', lambda s: (0, 1.0))
    monkeypatch.setattr(ablation, 'train_and_evaluate',
                        lambda key, s, seed, run, env: {})
    bar = tqdm(total=0, smoothing=0, file=io.StringIO())
    assert len(ablation.run_grid(wanted, run, {}, bar)) == 2
    assert (bar.total, bar.initial, bar.n) == (500, 100, 500)
