"""WorkDirGuardHook: no earlier run overwritten, no silent fresh start on
--resume, no temporary checkpoint left behind. (The tools' one-line errors:
tests/tools/test_work_dir_guard.py.)"""
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from mmengine.runner import BaseLoop

from hg_plugin.engine import WorkDirError, WorkDirGuardHook


class Loop(BaseLoop):
    def __init__(self):
        pass

    def run(self):
        pass


def runner(work_dir, resume=False, load_from=None, training=True):
    return SimpleNamespace(work_dir=str(work_dir), _resume=resume,
                           _load_from=load_from,
                           _train_loop=Loop() if training else dict())


def test_fresh_run_over_earlier_checkpoints_is_refused(tmp_path):
    (tmp_path / 'epoch_1.pth').write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    with pytest.raises(WorkDirError, match=r'already holds checkpoints of '
                       r'an earlier run \(epoch_1.pth\).*--resume'):
        WorkDirGuardHook().before_run(runner(tmp_path))
    assert (tmp_path / 'epoch_1.pth').read_bytes() == b'x'
    # resuming it, testing in it, or an explicit opt-in are fine
    WorkDirGuardHook().before_run(runner(tmp_path, resume=True))
    WorkDirGuardHook().before_run(runner(tmp_path, training=False))
    WorkDirGuardHook(allow_overwrite=True).before_run(runner(tmp_path))


def test_empty_work_dir_starts_fresh(tmp_path):
    WorkDirGuardHook().before_run(runner(tmp_path))
    WorkDirGuardHook().before_run(runner(tmp_path / 'new'))


def test_resume_from_nothing_is_refused_unless_if_possible(tmp_path):
    with pytest.raises(WorkDirError, match='no checkpoint to resume from'):
        WorkDirGuardHook().before_run(runner(tmp_path, resume=True))
    WorkDirGuardHook(resume_if_possible=True).before_run(
        runner(tmp_path, resume=True))
    # a named checkpoint (load_from) is the tools' business, not this hook's
    WorkDirGuardHook().before_run(
        runner(tmp_path, resume=True, load_from='x.pth'))
    # a checkpoint without last_checkpoint (e.g. copied in) is found
    (tmp_path / 'iter_5.pth').write_bytes(b'x')
    WorkDirGuardHook().before_run(runner(tmp_path, resume=True))


def test_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, '-c', 'import os; '
                           'print(os.getpid())'], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f'epoch_3.pth.tmp{dead}'
    live = tmp_path / f'epoch_4.pth.tmp{os.getppid()}'  # a running process
    stale.write_bytes(b'half')
    live.write_bytes(b'being written')
    WorkDirGuardHook().before_run(runner(tmp_path))
    assert not stale.exists() and live.exists()
