"""tools/benchmark.py and tools/compare_training.py run end to end (tiny
settings; the measured numbers themselves are reported, not asserted)."""
import csv
import sys

from tests.conftest import REPO, sample_dir
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


def test_train_only_rows_and_the_comparison_with_hg52():
    """--train-only (the compiled GPU rows: one compilation each) measures
    no inference; the summary compares hg8 with HG52 per shared setting."""
    sys.path.insert(0, str(REPO / 'tools'))
    import benchmark
    from _bench.report import Results, summary
    args = benchmark.parse_args([
        '--models', 'hg1', '--variants-model', 'hg1', '--model-variants',
        'fast', '--variants', 'compile', '--train-only', '--memory-batch',
        '0', '--data-samples', '0'])
    jobs = benchmark.jobs_for(args)
    assert [(j['variant'], j['infer'], j['train']) for j in jobs] == [
        ('fast', False, True), ('compile', False, True)]
    rows = [dict(model='hg8', variant='fast', train_img_s=200.0,
                 peak_mem_mib=2048.0, first_step_s=250.0,
                 settings=dict(channels_last=True, amp='float16')),
            dict(model='hourglass52-mpii', variant='fast', train_img_s=500.0,
                 peak_mem_mib=1024.0, first_step_s=50.0)]
    text = '\n'.join(summary(Results(rows), 'hg8'))
    assert ("at `fast` (channels_last, amp=float16): hg8 trains at 200 "
            "img/s vs 500, 0.40x of HG52's throughput") in text
    assert 'peak training memory 2.0 GiB vs 1.0 GiB' in text
    assert 'first step (compilation included) 250 s vs 50 s' in text
    assert 'latency' not in text and 'cl-amp' not in text  # not measured


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
