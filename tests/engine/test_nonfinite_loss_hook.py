"""StopOnNonFiniteLossHook: the first NaN/Inf loss stops the run naming the
iteration, the stack and the last good checkpoint, before CheckpointHook
could save the diverged weights."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.runner.priority import get_priority

from hg_plugin.engine import StopOnNonFiniteLossHook


def runner(work_dir, it=6):
    return SimpleNamespace(work_dir=str(work_dir), iter=it)


def outputs(**losses):
    return {k: torch.tensor(v) for k, v in losses.items()}


def test_finite_losses_and_other_values_pass(tmp_path):
    hook = StopOnNonFiniteLossHook()
    hook.after_train_iter(runner(tmp_path), 0, outputs=outputs(
        loss=1.0, loss_kpt_stack0=0.5, loss_kpt_stack1=0.5,
        acc_pose=math.nan))  # not a loss: a NaN accuracy does not stop
    hook.after_train_iter(runner(tmp_path), 0, outputs=None)


def test_a_stack_loss_is_named_before_the_total(tmp_path):
    (tmp_path / 'iter_5.pth').write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_5.pth'))
    with pytest.raises(FloatingPointError) as e:
        StopOnNonFiniteLossHook().after_train_iter(
            runner(tmp_path), 0, outputs=outputs(
                loss=math.nan, loss_kpt_stack0=0.5,
                loss_kpt_stack1=math.inf))
    assert str(e.value).startswith(
        'loss_kpt_stack1 is inf at iteration 7 (stack 1); training stopped, '
        f'last good checkpoint: {tmp_path / "iter_5.pth"} (untouched).')
    with pytest.raises(FloatingPointError, match=(
            r'^loss is nan at iteration 1; training stopped, last good '
            r'checkpoint: none yet')):
        StopOnNonFiniteLossHook().after_train_iter(
            runner(tmp_path / 'new', it=0), 0, outputs=outputs(
                loss=math.nan))


def test_it_runs_before_the_checkpoint_hook():
    """MMEngine calls hooks in priority order (lower value first)."""
    assert get_priority(StopOnNonFiniteLossHook.priority) < \
        get_priority(CheckpointHook.priority)
