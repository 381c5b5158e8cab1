"""tools/train.py never overwrites an earlier run and never resumes from
nothing without saying so (WorkDirGuardHook, also under MMPose's tools)."""
import hashlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import mmpose

from tests.conftest import REPO
from tests.tools.test_train_test_resume import options, run

CFG = REPO / 'configs' / 'hg1_mpii_256.py'


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_second_fresh_run_in_a_used_work_dir_is_refused(mpii_root, tmp_path):
    work = tmp_path / 'w'
    r = run('tools/train.py', CFG, '--work-dir', work, '--no-validate',
            *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    ckpt = work / 'epoch_1.pth'
    before = (digest(ckpt), (work / 'last_checkpoint').read_text())
    r = run('tools/train.py', CFG, '--work-dir', work, '--no-validate',
            *options(mpii_root, 1))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and \
        'already holds checkpoints of an earlier run (epoch_1.pth)' in \
        lines[0] and '--resume' in lines[0], r.stderr
    assert (digest(ckpt), (work / 'last_checkpoint').read_text()) == before


def test_resume_in_an_empty_work_dir_is_one_line_unless_if_possible(
        mpii_root, tmp_path):
    r = run('tools/train.py', CFG, '--work-dir', tmp_path / 'typo',
            '--resume', '--no-validate', *options(mpii_root, 1))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'no checkpoint to resume from in' in \
        lines[0] and 'if-possible' in lines[0], r.stderr
    assert not list((tmp_path / 'typo').glob('*.pth'))
    r = run('tools/train.py', CFG, '--work-dir', tmp_path / 'new',
            '--resume', 'if-possible', '--no-validate',
            *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'training from scratch (resume if possible)' in r.stdout
    assert (tmp_path / 'new' / 'epoch_1.pth').is_file()


def test_a_second_training_into_a_live_work_dir_is_refused(mpii_root,
                                                           tmp_path):
    """Started while the first runs (before it saved any checkpoint): ours
    and MMPose's own train.py are refused naming the live process; once it
    is killed, the next run starts (no stale lock)."""
    work = tmp_path / 'w'
    first = subprocess.Popen(
        [sys.executable, 'tools/train.py', CFG, '--work-dir', work,
         '--no-validate', *options(mpii_root, 200)], cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = work / '.hg_plugin.lock'
        for _ in range(600):
            if lock.is_file() and f'pid {first.pid}' in lock.read_text():
                break
            time.sleep(0.1)
        r = run('tools/train.py', CFG, '--work-dir', work, '--no-validate',
                *options(mpii_root, 1))
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 1 and len(lines) == 1, r.stderr[-3000:]
        assert lines[0].startswith(f'error: {work} is in use by a live '
                                   f'training (pid {first.pid}, started ')
        mmpose_train = Path(mmpose.__file__).parent / '.mim' / 'tools' / \
            'train.py'
        r = run(mmpose_train, CFG, '--work-dir', work,
                *options(mpii_root, 1))
        assert r.returncode != 0
        assert f'is in use by a live training (pid {first.pid}' in r.stderr
        assert first.poll() is None  # the first run went on
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # killed (SIGKILL: no cleanup ran), it leaves nothing that blocks the
    # next run (which resumes whatever checkpoint it saved, if any)
    r = run('tools/train.py', CFG, '--work-dir', work, '--resume',
            'if-possible', '--no-validate', *options(mpii_root, 1))
    assert r.returncode == 0, r.stderr[-3000:]


def test_resume_onto_a_truncated_checkpoint_names_the_readable_one(
        hg2_epoch1, mpii_root, tmp_path):
    """A partial copy as the latest checkpoint: one line naming it and the
    readable checkpoint beside it, with the command; nothing deleted;
    MMPose's own train.py says the same."""
    work = tmp_path / 'w'
    work.mkdir()
    good = work / 'epoch_1.pth'
    shutil.copy(hg2_epoch1.checkpoint, good)
    data = good.read_bytes()
    bad = work / 'epoch_2.pth'
    bad.write_bytes(data[:len(data) // 3])
    (work / 'last_checkpoint').write_text(str(bad))
    cfg = REPO / 'configs' / 'hg2_mpii_256.py'
    r = run('tools/train.py', cfg, '--work-dir', work, '--resume',
            '--no-validate', *options(mpii_root, 3))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1, r.stderr[-3000:]
    assert lines[0].startswith('error: ')
    assert f'checkpoint {bad} cannot be read (truncated or damaged' in \
        lines[0]
    assert f'the newest readable checkpoint beside it is {good}: resume ' \
        f'from it with --resume {good} (nothing was deleted)' in lines[0]
    assert bad.stat().st_size == len(data) // 3 and good.read_bytes() == data
    # the same file named with --resume FILE, and under MMPose's train.py
    r = run('tools/train.py', cfg, '--work-dir', work, '--resume', bad,
            '--no-validate', *options(mpii_root, 3))
    assert r.returncode == 1 and f'--resume {good}' in r.stderr
    mmpose_train = Path(mmpose.__file__).parent / '.mim' / 'tools' / \
        'train.py'
    r = run(mmpose_train, cfg, '--work-dir', work, '--resume',
            *options(mpii_root, 3))
    assert r.returncode != 0 and f'--resume {good}' in r.stderr
    # the command it names works
    r = run('tools/train.py', cfg, '--work-dir', work, '--resume', good,
            '--no-validate', *options(mpii_root, 2))
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'resumed epoch: 1' in r.stdout + r.stderr
