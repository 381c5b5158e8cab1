"""``--resume`` continues with the seed the run started with, and says
when the run's settings changed since the checkpoint."""
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.runner import BaseLoop
from mmpose.registry import HOOKS

from ..checks import config_changes, describe_changes


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Resume exactly, or say why not.

    MMEngine builds the training sampler (with the run's seed) before it
    resumes, and only then restores the seed saved in the checkpoint: a run
    started without ``randomness.seed`` (a random seed) resumes with another
    sample order, and with :class:`~hg_plugin.datasets.SeededSampler` other
    augmentation draws. This hook gives the sampler the checkpoint's seed as
    soon as the checkpoint is loaded, so that a resumed run repeats the
    uninterrupted one (bit-identical on CPU; docs/reliability.md).

    It also records the number of processes in each checkpoint and, on
    ``--resume``, compares the config saved in the checkpoint with the
    current one: every changed key that shapes the data stream, the model
    or the optimisation (batch size, sampler, dataset and pipeline, world
    size, model, optimizer, lr schedule, loop) is named in one
    warning line, since the continuation then differs from the
    uninterrupted run. (A model change that breaks loading stays an error.)
    """

    priority = 'VERY_HIGH'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['world_size'] = runner.world_size

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        loop = getattr(runner, '_train_loop', None)
        if not isinstance(loop, BaseLoop):
            return  # loading weights to test
        seed = meta.get('seed')
        sampler = getattr(loop.dataloader, 'sampler', None)
        if seed is not None and getattr(sampler, 'seed', seed) != seed:
            MMLogger.get_current_instance().info(
                f'sampler seed {sampler.seed} -> {seed} (from the checkpoint)')
            sampler.seed = seed
        if runner._resume:
            self._warn_changes(runner, meta)

    @staticmethod
    def _warn_changes(runner, meta: dict) -> None:
        changes = []
        if isinstance(meta.get('cfg'), str):
            try:
                saved = Config.fromstring(meta['cfg'], file_format='.py')
            except Exception:  # noqa: BLE001 - an unreadable copy: no check
                saved = None
            if saved is not None:
                changes = config_changes(saved, runner.cfg)
        # a changed seed is undone: MMEngine and this hook use the
        # checkpoint's (MMEngine warns about it itself)
        changes = [c for c in changes if c[0] != 'randomness.seed']
        if meta.get('world_size') not in (None, runner.world_size):
            changes.append(('world size (processes)', meta['world_size'],
                            runner.world_size))
        if changes:
            MMLogger.get_current_instance().warning(
                f'resuming with settings changed since the checkpoint: '
                f'{describe_changes(changes)}; the continuation will differ '
                'from the uninterrupted run (exact resume holds only with '
                'the run\'s own settings)')
