"""The static config checks as a hook, so MMPose's own tools run them."""
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmpose.registry import HOOKS

from ..checks import (check_config, invalid_records,
                      missing_images_message)


@HOOKS.register_module()
class ConfigCheckHook(Hook):
    """Before anything is loaded or trained, stop with one line naming the
    config key and the value to set when backbone, neck, head, codec,
    dataset and pipelines disagree (:func:`hg_plugin.checks.check_config`).
    ``tools/train.py``/``test.py`` run the same check before building.

    Then the annotation records of the train and val datasets are checked
    (:func:`hg_plugin.checks.invalid_records`: NaN/negative joints, bad
    scale or centre, wrong keypoint count, ...), stopping at the first
    invalid one with a line naming file, record, image and field. Leaving
    invalid records out (``invalid_records='skip'``) happens in
    hg_plugin's tools, before the datasets are built; under MMPose's own
    tools the datasets are already built when hooks run, so there the
    check stops the run instead. Last, every image file the datasets name
    must exist and begin like an image
    (:func:`hg_plugin.checks.missing_images_message`)."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        problem = check_config(runner.cfg)
        if problem:
            raise ValueError(problem)
        training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
        loaders = (['train_dataloader', 'val_dataloader'] if training
                   else ['test_dataloader'])
        problem = invalid_records(runner.cfg, loaders, runner.work_dir,
                                  skip=False)
        if problem:
            raise ValueError(problem.replace('error: ', '', 1))
        problem = missing_images_message(runner.cfg, loaders)
        if problem:
            raise ValueError(problem.replace('error: ', '', 1))
