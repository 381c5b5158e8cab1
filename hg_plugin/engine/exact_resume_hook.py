"""``--resume`` continues with the seed the run started with."""
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.runner import BaseLoop
from mmpose.registry import HOOKS


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """MMEngine builds the training sampler (with the run's seed) before it
    resumes, and only then restores the seed saved in the checkpoint: a run
    started without ``randomness.seed`` (a random seed) resumes with another
    sample order, and with :class:`~hg_plugin.datasets.SeededSampler` other
    augmentation draws. This hook gives the sampler the checkpoint's seed as
    soon as the checkpoint is loaded, so that a resumed run repeats the
    uninterrupted one (bit-identical on CPU; see README "Exact resume")."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        seed = (checkpoint.get('meta') or {}).get('seed')
        loop = getattr(runner, '_train_loop', None)
        if seed is None or not isinstance(loop, BaseLoop):
            return  # loading weights to test, or an old checkpoint
        sampler = getattr(loop.dataloader, 'sampler', None)
        if getattr(sampler, 'seed', seed) != seed:
            MMLogger.get_current_instance().info(
                f'sampler seed {sampler.seed} -> {seed} (from the checkpoint)')
            sampler.seed = seed
