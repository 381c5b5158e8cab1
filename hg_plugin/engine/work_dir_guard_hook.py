"""Nothing of an earlier or a live run is overwritten, ``--resume`` never
starts from scratch without saying so, and an unreadable checkpoint is
named before anything loads it."""
import glob
import os
import os.path as osp
import re

from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.runner import BaseLoop
from mmengine.runner import find_latest_checkpoint
from mmpose.registry import HOOKS

from ..checkpoints.damaged import damaged_checkpoint_message
from .last_checkpoint_hook import newest_numbered_checkpoint
from .work_dir_lock import hold_work_dir

# what hg_plugin.runtime's atomic writer leaves if killed mid-write
TMP_PATTERN = re.compile(r'.+\.pth\.tmp(\d+)$')


class WorkDirError(RuntimeError):
    """A run that would overwrite or silently ignore earlier work."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(work_dir: str) -> list:
    """Delete ``*.pth.tmp<pid>`` files of processes that no longer run
    (a checkpoint write cut short by SIGKILL or a full disk); returns them."""
    removed = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth.tmp*')):
        m = TMP_PATTERN.fullmatch(osp.basename(path))
        if m and int(m[1]) != os.getpid() and not _alive(int(m[1])):
            os.remove(path)
            removed.append(path)
    return removed


def earlier_checkpoints(work_dir: str) -> list:
    """Checkpoint files an earlier run left in ``work_dir``."""
    if not osp.isdir(work_dir):
        return []
    return sorted(n for n in os.listdir(work_dir) if n.endswith('.pth'))


@HOOKS.register_module()
class WorkDirGuardHook(Hook):
    """Before the run loads or writes anything:

    - a training takes the work dir's lock (:func:`hold_work_dir`): a
      second training into a dir where one is live is refused, naming the
      live process; tests and inference take no lock;
    - removes temporary checkpoint files left by a killed write;
    - refuses to start a fresh run (no ``resume``) in a work dir that holds
      checkpoints of an earlier run: MMEngine would overwrite
      ``epoch_N.pth`` and move ``last_checkpoint`` back;
    - refuses ``resume=True`` (``--resume`` without a file) when the work
      dir holds no checkpoint: MMEngine would train from scratch without a
      word (a mistyped or empty ``--work-dir``);
    - refuses a checkpoint to resume or load that cannot be read (empty,
      truncated), naming it and the newest readable one beside it
      (:func:`~hg_plugin.checkpoints.damaged.damaged_checkpoint_message`);
      nothing is deleted.

    Args:
        resume_if_possible (bool): With ``resume=True`` and no checkpoint,
            start from scratch (saying so) instead of stopping.
            ``tools/train.py --resume if-possible`` sets it. Default: False.
        allow_overwrite (bool): Start a fresh run over earlier checkpoints.
            Default: False.
    """

    priority = 'HIGH'  # after RepairLastCheckpointHook, before loading

    def __init__(self, resume_if_possible: bool = False,
                 allow_overwrite: bool = False):
        self.resume_if_possible = resume_if_possible
        self.allow_overwrite = allow_overwrite

    def before_run(self, runner) -> None:
        logger = MMLogger.get_current_instance()
        work_dir = runner.work_dir
        training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
        if training:
            hold_work_dir(work_dir)
        removed = remove_stale_temporaries(work_dir)
        if removed:
            logger.warning(f'removed {len(removed)} temporary checkpoint '
                           f'file(s) of an interrupted write: '
                           f'{", ".join(map(osp.basename, removed))}')
        resume = getattr(runner, '_resume', False)
        load_from = getattr(runner, '_load_from', None)
        if load_from:
            self._readable(load_from, 'resume' if resume else 'load_from')
        if resume and load_from is None:
            found = find_latest_checkpoint(work_dir)
            if not found or not osp.isfile(found):
                found = newest_numbered_checkpoint(work_dir)
            if found:
                self._readable(found, 'resume')
                return
            if self.resume_if_possible:
                logger.warning(f'no checkpoint in {work_dir} to resume from:'
                               ' training from scratch (resume if possible)')
                return
            raise WorkDirError(
                f'--resume: no checkpoint to resume from in {work_dir} '
                '(empty or mistyped --work-dir?); give the checkpoint file, '
                'or --resume if-possible to start from scratch when there '
                'is none')
        if resume or not training or self.allow_overwrite:
            return
        earlier = earlier_checkpoints(work_dir)
        if earlier:
            shown = ', '.join(earlier[:3]) + (', ...' if len(earlier) > 3
                                              else '')
            raise WorkDirError(
                f'{work_dir} already holds checkpoints of an earlier run '
                f'({shown}) that this run would overwrite: continue it with '
                '--resume, or choose a new --work-dir')

    @staticmethod
    def _readable(path: str, how: str) -> None:
        message = damaged_checkpoint_message(path, how)
        if message:
            raise WorkDirError(message)
