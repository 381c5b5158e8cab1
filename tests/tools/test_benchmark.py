"""tools/benchmark.py and tools/compare_training.py run end to end (tiny
settings; the measured numbers themselves are reported, not asserted)."""
import csv

from tests.conftest import sample_dir
from tests.tools.test_train_test_resume import run


def test_benchmark_reports_ours_and_the_zoo(tmp_path):
    r = run('tools/benchmark.py', '--models', 'hg1', 'res50-mpii',
            '--model-variants', 'plain', 'fast', '--variants-model', 'hg1',
            '--variants', 'reference-layout', 'fold-bn', 'onnxruntime',
            '--memory-batch', '0', '--data-samples', '5', '--batch', '1',
            '--train-batch', '1', '--repeat', '1', '--warmup', '0',
            '--out-dir', tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    every = list(csv.DictReader(open(tmp_path / 'benchmark.csv')))
    assert not [row for row in every if row['error']]
    got = {(row['model'], row['variant']) for row in every}
    assert got == {('hg1', 'plain'), ('hg1', 'fast'), ('res50-mpii', 'plain'),
                   ('res50-mpii', 'fast'), ('hg1', 'reference-layout'),
                   ('hg1', 'fold-bn'), ('hg1', 'onnxruntime'),
                   ('data', 'train pipeline')}
    rows = {row['model']: row for row in every if row['variant'] == 'plain'}
    assert not rows['hg1']['error'] and not rows['res50-mpii']['error']
    assert abs(float(rows['hg1']['params_m']) - 3.426) < 0.01
    # the zoo entry is MMPose's own config: SimpleBaseline R50, 16 keypoints
    assert abs(float(rows['res50-mpii']['params_m']) - 34.0) < 0.5
    assert float(rows['res50-mpii']['accuracy']) == 0.882  # its metafile
    for key in ('latency_ms', 'infer_img_s', 'train_img_s', 'peak_mem_mib'):
        assert float(rows['hg1'][key]) > 0
    assert (tmp_path / 'benchmark.png').stat().st_size > 10000
    report = (tmp_path / 'benchmark.md').read_text()
    assert '| res50-mpii | 34.00 |' in report
    assert 'hg1 as shipped vs the reference layout' in report
    assert 'samples/s per worker process' in report
    data = next(row for row in every if row['model'] == 'data')
    assert float(data['samples_s']) > 0


def test_compare_training_writes_curves(tmp_path):
    out = tmp_path / 'curves.png'
    r = run('tools/compare_training.py', '--data', sample_dir('mpii'),
            '--stacks', '2', '--iters', '3', '--out', out)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = list(csv.reader(open(tmp_path / 'curves.csv')))
    assert rows[0] == ['iteration', 'plain', 'with_cp', 'stagewise']
    assert len(rows) == 4
    # checkpointing changes nothing; stage-wise shares the first forward
    assert rows[1][1] == rows[1][2] and rows[3][1] == rows[3][2]
    assert abs(float(rows[1][1]) - float(rows[1][3])) < 1e-5
