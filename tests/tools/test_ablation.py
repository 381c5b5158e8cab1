"""tools/ablation.py --quick: the plumbing (configs, training, every kind of
evaluation, report, plot), never the outcome."""
import json
import subprocess
import sys

from tests.conftest import REPO


def test_quick_mode_writes_report_plot_and_numbers(tmp_path):
    out = tmp_path / 'docs'
    r = subprocess.run(
        [sys.executable, 'tools/ablation.py', '--quick', '--variants',
         'sup-stagewise-kept,res-64-half-dark,per-stack',
         '--work-dir', tmp_path / 'work', '--out', out],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = (out / 'ablation.md').read_text()
    for label in ('stage-wise, gradient kept', '64 / 32 (1/2), DARK decoding',
                  'Per-stack accuracy'):
        assert label in report
    data = json.loads((out / 'ablation.json').read_text())
    assert [row['name'] for row in data['rows']] == [
        'sup-stagewise-kept', 'res-64-half-dark']
    assert len(data['per_stack']) == 4 and data['seeds'] == [0]
    for row in data['rows']:
        assert len(row['curve']) == 10 and row['params'] > 0
        assert row['val']  # held-out PCKh during training
    assert (out / 'ablation.png').stat().st_size > 10000
    # a second call reuses the finished runs
    again = subprocess.run(
        [sys.executable, 'tools/ablation.py', '--quick', '--variants',
         'res-64-half', '--work-dir', tmp_path / 'work', '--out', out],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and 'after 0.0 min' in again.stdout


def test_unknown_variant_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, 'tools/ablation.py', '--variants',
                        'sup-nope', '--work-dir', tmp_path], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.strip().startswith(
        "error: --variants: unknown 'sup-nope'")
