"""The static config checks as a hook, so MMPose's own tools run them."""
from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ..utils.config_check import check_config


@HOOKS.register_module()
class ConfigCheckHook(Hook):
    """Before anything is loaded or trained, stop with one line naming the
    config key and the value to set when backbone, neck, head, codec,
    dataset and pipelines disagree (:func:`hg_plugin.utils.check_config`).
    ``tools/train.py``/``test.py`` run the same check before building."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        problem = check_config(runner.cfg)
        if problem:
            raise ValueError(problem)
