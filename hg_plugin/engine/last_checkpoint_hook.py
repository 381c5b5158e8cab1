"""``--resume`` after a run killed while ``last_checkpoint`` was rewritten."""
import os
import os.path as osp
import re

from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmpose.registry import HOOKS


def newest_numbered_checkpoint(work_dir: str):
    """The ``epoch_N.pth``/``iter_N.pth`` with the highest N, or None."""
    found = [(int(m[2]), m[0]) for m in (
        re.fullmatch(r'(epoch|iter)_(\d+)\.pth', name)
        for name in (os.listdir(work_dir) if osp.isdir(work_dir) else []))
        if m]
    return osp.join(work_dir, max(found)[1]) if found else None


@HOOKS.register_module()
class RepairLastCheckpointHook(Hook):
    """MMEngine's ``CheckpointHook`` rewrites ``work_dir/last_checkpoint`` in
    place after each save; a run killed in that moment leaves it empty (or
    naming a file that never landed), and ``--resume`` then starts from
    scratch or fails. Before the run loads anything (``before_run`` precedes
    ``load_or_resume``), such a file is pointed at the newest numbered
    checkpoint in the work dir."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        marker = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(marker):
            return
        with open(marker) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return
        newest = newest_numbered_checkpoint(runner.work_dir)
        if newest is None:
            return
        with open(f'{marker}.tmp', 'w') as f:
            f.write(newest)
        os.replace(f'{marker}.tmp', marker)
        MMLogger.get_current_instance().warning(
            f'{marker} was {"empty" if not named else "dangling: " + named}; '
            f'it now names {newest}')
