"""Each bad input ends in one clear error line (what, which file or config
key, how to fix), never a traceback wall or a silently wrong result."""
import re

import pytest
import torch

from tests.conftest import (REPO, make_mpii_root, mpii_cfg_options,
                            mpii_records, sample_dir)
from tests.tools.test_train_test_resume import SMALL, run

HG2 = REPO / 'configs' / 'hg2_mpii_256.py'


def error_line(r):
    assert r.returncode != 0, r.stdout[-2000:]
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr[-3000:]
    assert lines[0].startswith('error: ')
    return lines[0]


def train(root, tmp_path, *extra, epochs=1, config=HG2):
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(root).items()]
    flags = [e for e in extra if e.startswith('--')]
    extra = [e for e in extra if not e.startswith('--')]
    return run('tools/train.py', config, '--work-dir', tmp_path / 'work',
               *flags, '--cfg-options', *opts, *SMALL,
               f'train_cfg.max_epochs={epochs}', *extra)


@pytest.mark.parametrize('option,expected', [
    ('model.backbone.num_stacks=3',
     'model.head.num_stacks=2 but model.backbone.num_stacks=3'),
    ('model.head.loss.stack_weights=[1.0]',
     'stack_weights has 1 entries for 2 stacks'),
    ('model.head.out_channels=17',
     'num_keypoints=16 but model.head.out_channels=17'),
    ('model.head.decoder.input_size=(250,250)',
     'cannot be halved 4 times after the /4 stem: use multiples of 64'),
    ('model.head.decoder.heatmap_size=(32,32)',
     'set heatmap_size to input_size / 4'),
])
def test_inconsistent_config_is_one_line(option, expected, mpii_root,
                                         tmp_path):
    assert expected in error_line(train(mpii_root, tmp_path, option))


def test_keypoints_disagreeing_with_dataset(mpii_root, tmp_path):
    line = error_line(train(mpii_root, tmp_path,
                            'model.backbone.num_keypoints=17',
                            'model.head.out_channels=17'))
    assert 'MpiiDataset) has 16 keypoints but model.head.out_channels=17' \
        in line


def make_root(tmp_path, records, images):
    return make_mpii_root(tmp_path / 'mpii', records, images)


real_records = mpii_records


def test_missing_image_is_one_line_before_the_model_is_built(tmp_path):
    recs = real_records()[:3]
    src = sample_dir('mpii') / recs[0]['image']
    root = make_root(tmp_path, recs, {recs[0]['image']: src.read_bytes(),
                                      recs[2]['image']: b'text, not jpeg'})
    line = error_line(train(root, tmp_path))
    assert 'names 2 missing or unreadable image(s); first: ' in line
    assert f'{recs[1]["image"]} (missing)' in line
    assert not list((tmp_path / 'work').iterdir())  # no runner was built


def test_a_text_file_named_jpg_is_one_line_before_the_model_is_built(
        tmp_path):
    recs = real_records()[:1]
    root = make_root(tmp_path, recs, {recs[0]['image']: b'plain text'})
    line = error_line(train(root, tmp_path))
    assert f"{recs[0]['image']} (not an image (starts with b'plain te" in line
    assert not list((tmp_path / 'work').iterdir())


def test_truncated_image_is_one_line(tmp_path):
    recs = real_records()[:2]
    images = {r['image']: (sample_dir('mpii') / r['image']).read_bytes()
              for r in recs}
    data = images[recs[1]['image']]
    images[recs[1]['image']] = data[:len(data) // 2]
    root = make_root(tmp_path, recs, images)
    line = error_line(train(root, tmp_path))
    assert 'truncated image file' in line and recs[1]['image'] in line


def test_annotation_without_visible_keypoints_trains_finitely(tmp_path):
    rec = dict(real_records()[0], joints_vis=[0] * 16)
    root = make_root(tmp_path, [rec], {rec['image']: (
        sample_dir('mpii') / rec['image']).read_bytes()})
    r = train(root, tmp_path, '--no-validate', 'train_dataloader.batch_size=1',
              epochs=2)
    assert r.returncode == 0, r.stderr[-3000:]
    losses = re.findall(r'loss_kpt_stack\d: (\S+)', r.stdout)
    assert losses and all(float(v) == 0.0 for v in losses)


@pytest.fixture
def hg2_checkpoint(hg2_epoch1):
    return hg2_epoch1.checkpoint


def test_truncated_checkpoint_is_one_line(hg2_checkpoint, mpii_root,
                                          tmp_path):
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(hg2_checkpoint.read_bytes()[:4096])
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(mpii_root).items()]
    line = error_line(run('tools/test.py', HG2, bad, '--work-dir', tmp_path,
                          '--cfg-options', *opts, *SMALL))
    assert line.startswith(f'error: checkpoint {bad} cannot be read '
                           '(truncated or damaged')
    assert 'no readable checkpoint is beside it' in line


def test_checkpoint_of_other_architecture_names_keys(hg2_checkpoint,
                                                     mpii_root, tmp_path):
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(mpii_root).items()]
    r = run('tools/test.py', REPO / 'configs' / 'hg1_mpii_256.py',
            hg2_checkpoint, '--work-dir', tmp_path, '--cfg-options', *opts,
            *SMALL)
    line = error_line(r)
    assert 'does not match the model of this config' in line
    assert 'unexpected backbone.features.1' in line or \
        'unexpected backbone.hgs.1' in line


def test_nan_loss_stops_naming_iteration_and_stack(mpii_root, tmp_path):
    r = train(mpii_root, tmp_path, '--no-validate',
              'optim_wrapper.optimizer.lr=1e30',
              'default_hooks.checkpoint.interval=1',
              'default_hooks.checkpoint.by_epoch=False', epochs=3)
    line = error_line(r)
    m = re.search(r'loss_kpt_stack(\d) is (nan|inf) at iteration (\d+) '
                  r'\(stack (\d)\)', line)
    assert m and m[1] == m[4], line
    bad_iter = int(m[3])
    work = tmp_path / 'work'
    assert not (work / f'iter_{bad_iter}.pth').exists()
    if bad_iter > 1:
        good = torch.load(work / f'iter_{bad_iter - 1}.pth',
                          weights_only=False)
        assert good['meta']['iter'] == bad_iter - 1
        assert f'iter_{bad_iter - 1}.pth' in line


@pytest.mark.parametrize('body,expected', [
    ("_base_ = ['./hg2_mpii_256.py']\nmodel = dict(\n",
     'syntax error in'),
    ("_base_ = ['./no_such_base.py']\n", 'a file it names is missing'),
    (f"_base_ = ['{HG2}']\ncustom_imports = dict(imports=['hg_plugn'], "
     "allow_failed_imports=False)\n", "custom_imports: Failed to import "
     "hg_plugn"),
])
def test_broken_config_file_is_one_line(body, expected, tmp_path):
    cfg = REPO / 'configs' / f'_broken_{tmp_path.name}.py'
    cfg.write_text(body)
    try:
        line = error_line(run('tools/train.py', cfg, '--work-dir', tmp_path))
    finally:
        cfg.unlink()
    assert str(cfg) in line and expected in line, line


@pytest.mark.parametrize('option,expected', [
    ('model.head.loss.stack_weights=1.0', 'stack_weights'),
    ('model.head.decoder.input_size=256', 'input_size'),
])
def test_config_values_of_the_wrong_type_are_one_line(
        option, expected, mpii_root, tmp_path):
    assert expected in error_line(train(mpii_root, tmp_path, option))


def test_unusable_work_dir_is_one_line(mpii_root, tmp_path):
    (tmp_path / 'file').write_text('x')
    for work, said in ((tmp_path / 'file', 'is an existing file'),
                       ('/proc/hg_plugin_test', 'cannot be written')):
        opts = [f'{k}={v}' for k, v in mpii_cfg_options(mpii_root).items()]
        line = error_line(run('tools/train.py', HG2, '--work-dir', work,
                              '--cfg-options', *opts, *SMALL))
        assert said in line and 'choose another --work-dir' in line, line
    assert (tmp_path / 'file').read_text() == 'x'


def test_unwritable_outputs_are_one_line_before_the_work(hg2_checkpoint,
                                                        mpii_root, tmp_path):
    """--out of test.py (metrics) and export_onnx.py is checked before the
    evaluation/export, so nothing is computed only to be lost."""
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(mpii_root).items()]
    for r in (run('tools/test.py', HG2, hg2_checkpoint, '--work-dir',
                  tmp_path / 'w', '--out', '/proc/hg_plugin/m.json',
                  '--cfg-options', *opts, *SMALL),
              run('tools/export_onnx.py', HG2, '--out', '/proc/x/m.onnx'),
              run('tools/export_onnx.py', HG2, '--out', tmp_path)):
        line = error_line(r)
        assert '--out ' in line and ('cannot be written' in line
                                     or 'is a folder' in line), line
        assert 'Epoch(test)' not in r.stdout and 'wrote' not in r.stdout


DISK_FILLS = '''
import errno, os, runpy, sys
real = os.fsync
def fsync(fd):  # writing epoch_2.pth hits a full disk
    if 'epoch_2.pth' in os.readlink(f'/proc/self/fd/{fd}'):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real(fd)
os.fsync = fsync
sys.argv = sys.argv[1:]
sys.path.insert(0, 'tools')
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def test_disk_full_is_one_line_and_loses_nothing(mpii_root, tmp_path):
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(mpii_root).items()]
    work = tmp_path / 'work'
    line = error_line(run(
        '-c', DISK_FILLS, 'tools/train.py', HG2, '--work-dir', work,
        '--no-validate', '--cfg-options', *opts, *SMALL,
        'train_cfg.max_epochs=3', 'default_hooks.checkpoint.interval=1'))
    assert line.startswith('error: disk full writing ') and 'epoch_2.pth' \
        in line, line
    assert f'free space, then last complete checkpoint {work}/epoch_1.pth;' \
        ' resume with --resume' in line
    assert sorted(p.name for p in work.iterdir() if p.is_file()) == [
        '.hg_plugin.lock', 'epoch_1.pth', 'hg2_mpii_256.py',
        'last_checkpoint', 'last_error.log']  # no temporary left
    torch.load(work / 'epoch_1.pth', weights_only=True)
