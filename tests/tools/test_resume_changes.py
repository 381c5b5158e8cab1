"""``--resume`` after changing what the run computes (batch size, the
pipeline, the lr schedule, the number of processes...) names every changed
key in one warning line - under our tools/train.py and MMPose's own - since
the continuation then differs from the uninterrupted run; an unchanged
resume says nothing."""
import shutil
import subprocess
import sys

from pathlib import Path

import mmpose

from tests.conftest import REPO
from tests.tools.test_train_test_resume import options, run

CFG = REPO / 'configs' / 'hg2_mpii_256.py'
MMPOSE_TRAIN = Path(mmpose.__file__).parent / '.mim' / 'tools' / 'train.py'


def warning_lines(log):
    return [line for line in log.splitlines()
            if 'resuming with settings changed since the checkpoint' in line]


def copy_of(hg2_epoch1, tmp_path):
    work = tmp_path / 'work'
    shutil.copytree(hg2_epoch1.work, work)
    return work


def test_changed_settings_are_named_in_one_warning(hg2_epoch1, mpii_root,
                                                   tmp_path):
    work = copy_of(hg2_epoch1, tmp_path)
    r = run('tools/train.py', CFG, '--work-dir', work, '--resume',
            '--no-validate', *options(mpii_root, 2),
            'train_dataloader.batch_size=1',
            'train_dataloader.dataset.pipeline.4.rotate_factor=40',
            'optim_wrapper.optimizer.lr=0.01')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    lines = warning_lines(r.stdout + r.stderr)
    assert len(lines) == 1, r.stdout[-3000:]
    for key in ('train_dataloader.batch_size 2 -> 1',
                'train_dataloader.dataset.pipeline[4].rotate_factor 30 -> 40',
                'optim_wrapper.optimizer.lr 0.00025 -> 0.01',
                'train_cfg.max_epochs 1 -> 2'):
        assert key in lines[0], lines[0]
    assert 'exact resume holds only' in lines[0]


def test_unchanged_resume_says_nothing(hg2_epoch1, mpii_root, tmp_path):
    work = copy_of(hg2_epoch1, tmp_path)
    r = run('tools/train.py', CFG, '--work-dir', work, '--resume',
            '--no-validate', *options(mpii_root, 1),
            'train_cfg.max_epochs=1')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not warning_lines(r.stdout + r.stderr)


def test_mmpose_own_train_names_the_change_too(hg2_epoch1, mpii_root,
                                               tmp_path):
    work = copy_of(hg2_epoch1, tmp_path)
    r = subprocess.run(
        [sys.executable, str(MMPOSE_TRAIN), str(CFG), '--work-dir',
         str(work), '--resume', *options(mpii_root, 1),
         'train_dataloader.batch_size=1'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    lines = warning_lines(r.stdout + r.stderr)
    assert len(lines) == 1 and 'train_dataloader.batch_size 2 -> 1' in \
        lines[0], r.stdout[-3000:]
