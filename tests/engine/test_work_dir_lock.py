"""One live training per work dir: the OS lock is held while the process
lives and released when it dies, however it dies."""
import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
from mmengine.runner import BaseLoop

from hg_plugin.engine import WorkDirGuardHook
from hg_plugin.engine import work_dir_lock
from hg_plugin.engine.work_dir_lock import WorkDirBusyError, hold_work_dir
from tests.conftest import REPO

HOLD = ('import sys, time\n'
        'from hg_plugin.engine.work_dir_lock import hold_work_dir\n'
        'hold_work_dir(sys.argv[1]); print("held", flush=True)\n'
        'time.sleep(600)\n')


def holder(work):
    p = subprocess.Popen([sys.executable, '-c', HOLD, str(work)], cwd=REPO,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'held'
    return p


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    monkeypatch.setattr(work_dir_lock, '_held', {})


def test_a_live_holder_refuses_a_second_and_its_death_frees_the_dir(
        tmp_path):
    p = holder(tmp_path)
    try:
        with pytest.raises(WorkDirBusyError, match=(
                f'{tmp_path} is in use by a live training \\(pid {p.pid}, '
                'started .*\\): wait for it')):
            hold_work_dir(str(tmp_path))
    finally:
        os.kill(p.pid, signal.SIGKILL)  # a crash: no cleanup code runs
        p.wait()
    hold_work_dir(str(tmp_path))  # nothing stale is left
    hold_work_dir(str(tmp_path))  # and the holder may ask again


def test_only_trainings_take_the_lock(tmp_path):
    class Loop(BaseLoop):
        def __init__(self):
            pass

        def run(self):
            pass
    p = holder(tmp_path)
    try:
        testing = SimpleNamespace(work_dir=str(tmp_path), _resume=False,
                                  _load_from=None, _train_loop=dict())
        WorkDirGuardHook().before_run(testing)  # a test beside is fine
        training = SimpleNamespace(work_dir=str(tmp_path), _resume=False,
                                   _load_from=None, _train_loop=Loop())
        with pytest.raises(WorkDirBusyError):
            WorkDirGuardHook().before_run(training)
    finally:
        p.kill()
        p.wait()


def test_other_ranks_of_a_distributed_run_do_not_lock(tmp_path, monkeypatch):
    p = holder(tmp_path)
    try:
        monkeypatch.setenv('RANK', '1')
        hold_work_dir(str(tmp_path))  # rank 1 does not wait for rank 0
    finally:
        p.kill()
        p.wait()
