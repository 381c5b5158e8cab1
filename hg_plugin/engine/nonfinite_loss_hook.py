"""Stop training at the first NaN/Inf loss, before anything is saved."""
import math
import re

import torch

from mmengine.hooks import Hook
from mmengine.runner.checkpoint import find_latest_checkpoint
from mmpose.registry import HOOKS


@HOOKS.register_module()
class StopOnNonFiniteLossHook(Hook):
    """Raise ``FloatingPointError`` naming the iteration and the stack whose
    loss is not finite. Runs before ``CheckpointHook`` (priority VERY_LOW), so
    the diverged weights are never written and the last good checkpoint stays
    as it was."""

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        items = sorted((outputs or {}).items(), key=lambda kv: kv[0] == 'loss')
        for key, value in items:
            value = float(torch.as_tensor(value).detach())
            if 'loss' in key and not math.isfinite(value):
                stack = re.search(r'stack(\d+)$', key)
                where = f' (stack {stack[1]})' if stack else ''
                last = find_latest_checkpoint(runner.work_dir)
                raise FloatingPointError(
                    f'{key} is {value} at iteration {runner.iter + 1}'
                    f'{where}; training stopped, last good checkpoint: '
                    f'{last or "none yet"} (untouched). Lower the lr or check '
                    'the data of that iteration.')
