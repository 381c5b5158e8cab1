"""No tool writes over its own input, nor over an existing file it did not
write (unless --force): one rule (tools/_cli/ownership.py) for
mix_config, convert_weights, export_onnx, infer, benchmark, ablation and
compare_training. Each refusal is one line, before any work, and the file
is left as it was."""
import hashlib
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO, sample_dir

ZOO = ('mmpose::body_2d_keypoint/topdown_heatmap/mpii/'
       'td-hm_res50_8xb64-210e_mpii-256x256.py')


def run(*args, cwd=REPO):
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(r, *words):
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('error: '), r.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_mix_config_never_replaces_its_input(tmp_path):
    mine = tmp_path / 'my.py'
    shutil.copy(REPO / 'configs' / 'hg2_mpii_256.py', mine)
    before = digest(mine)
    link = tmp_path / 'link.py'
    link.symlink_to(mine)
    for out in (mine, link):  # the same file, also through a link
        refused(run('tools/mix_config.py', mine, '-o', out),
                'is the input', 'destroy')
        assert digest(mine) == before


def test_mix_config_overwrites_only_its_own_output(tmp_path):
    out = tmp_path / 'mixed.py'
    out.write_text('# my notes\n')
    refused(run('tools/mix_config.py', ZOO, '-o', out),
            'exists and was not written by tools/mix_config.py', '--force')
    assert out.read_text() == '# my notes\n'
    r = run('tools/mix_config.py', ZOO, '-o', out, '--force')
    assert r.returncode == 0, r.stderr[-2000:]
    r = run('tools/mix_config.py', ZOO, '-o', out, '--stacks', '4')
    assert r.returncode == 0, r.stderr[-2000:]  # its own file: rewritten
    assert 'num_stacks=4' in r.stdout
    out.write_text(out.read_text() + '# edited by hand\n')  # now the user's
    refused(run('tools/mix_config.py', ZOO, '-o', out), '--force')


def test_convert_weights_never_replaces_the_source(tmp_path):
    src = tmp_path / 'ckpt.pt'
    src.write_bytes(b'the only copy')
    refused(run('tools/convert_weights.py', 'pv', src, src), 'is the input')
    assert src.read_bytes() == b'the only copy'
    # the config written beside the output would be the user's file
    mine = tmp_path / 'out.py'
    mine.write_text('# mine\n')
    refused(run('tools/convert_weights.py', 'pv', src, tmp_path / 'out.pth'),
            f'{mine} exists and was not written by')
    assert mine.read_text() == '# mine\n'


def test_export_onnx_never_replaces_its_inputs_or_other_files(tmp_path):
    cfg = tmp_path / 'cfg.py'
    shutil.copy(REPO / 'configs' / 'hg2_mpii_256.py', cfg)
    before = digest(cfg)
    refused(run('tools/export_onnx.py', cfg, '--out', cfg), 'is the input')
    assert digest(cfg) == before
    other = tmp_path / 'model.onnx'
    other.write_bytes(b'someone else\'s model')
    refused(run('tools/export_onnx.py', cfg, '--out', other), '--force')
    assert other.read_bytes() == b'someone else\'s model'


def test_infer_never_writes_over_an_input_image(tmp_path):
    folder = tmp_path / 'in'
    folder.mkdir()
    image = sample_dir('mpii') / '005808361.jpg'
    shutil.copy(image, folder / 'a.jpg')
    shutil.copy(image, folder / 'a_pose.png')  # what a.jpg's picture is named
    before = digest(folder / 'a_pose.png')
    refused(run('tools/infer.py', folder, '--config',
                'configs/hg2_mpii_256.py', '--out-dir', folder),
            'is the input')
    assert digest(folder / 'a_pose.png') == before


@pytest.mark.parametrize('tool, args, name', [
    ('tools/benchmark.py', ['--models', 'hg1', '--model-variants', 'plain',
                            '--variants', '--data-samples', '0',
                            '--memory-batch', '0', '--out-dir'],
     'benchmark.md'),
    ('tools/ablation.py', ['--quick', '--variants', 'sup-all', '--out'],
     'ablation.md'),
    ('tools/compare_training.py', ['--out'], 'stagewise_loss.png'),
])
def test_report_tools_keep_a_file_they_did_not_write(tool, args, name,
                                                     tmp_path):
    mine = tmp_path / name
    mine.write_text('my own report\n')
    target = mine if tool.endswith('compare_training.py') else tmp_path
    r = run(tool, *args, target, '--work-dir', tmp_path / 'w') \
        if tool.endswith('ablation.py') else run(tool, *args, target)
    refused(r, str(mine), '--force')
    assert mine.read_text() == 'my own report\n'
    assert not (tmp_path / 'w').exists()  # refused before any work


def test_committed_reports_are_recorded_as_their_tools_outputs():
    """A fresh clone can regenerate the committed reports without --force:
    each is recorded, with its content's hash, as its tool's output."""
    sys.path.insert(0, str(REPO / 'tools'))
    from _cli.ownership import written_by
    for path, tool in [
            ('benchmarks/benchmark.md', 'tools/benchmark.py'),
            ('benchmarks/cuda/benchmark.json', 'tools/benchmark.py'),
            ('docs/ablation.json', 'tools/ablation.py'),
            ('docs/mix_sweep.md', 'tools/mix_config.py'),
            ('docs/stagewise_loss.csv', 'tools/compare_training.py')]:
        assert written_by(str(REPO / path), tool), path
