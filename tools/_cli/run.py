"""Run a checked config: config, data files and records checked before
the runner is built, the checkpoint against its model, errors as one
line; a model for inference with a checkpoint that fits."""
import gc
import sys
import warnings

import torch.distributed as torch_dist
from mmengine.runner import Runner

from hg_plugin.apis import init_checked_model
from hg_plugin.checkpoints import check_checkpoint
from hg_plugin.checkpoints.damaged import damaged_checkpoint_message
from hg_plugin.checks import (check_config, invalid_records,
                              missing_data_message, missing_images_message)
from hg_plugin.engine.work_dir_lock import WorkDirBusyError, hold_work_dir
from hg_plugin.models.backbones import CheckpointMismatchError

from .errors import run_reporting_errors


def run_checked(cfg, config_path: str, loaders, action: str,
                checkpoint=None, hooks=()) -> None:
    """Check config and data (one line and exit on a problem), build the
    runner, check ``checkpoint`` against its model, then ``runner.<action>()``
    with errors reported as one line."""

    problem = check_config(cfg)
    if problem:
        sys.exit(f'error: {config_path}: {problem}')
    message = missing_data_message(cfg, loaders)
    if message:
        sys.exit(message)
    message = invalid_records(cfg, loaders, cfg.work_dir)
    if message:
        sys.exit(message)
    message = missing_images_message(cfg, loaders)
    if message:
        sys.exit(message)
    if checkpoint:
        message = damaged_checkpoint_message(checkpoint, 'test' if action ==
                                             'test' else (
            'resume' if cfg.get('resume') else 'load_from'))
        if message:
            sys.exit(f'error: {message}')
    if action == 'train':  # before anything is built
        try:
            hold_work_dir(cfg.work_dir)
        except WorkDirBusyError as e:
            sys.exit(f'error: {e}')

    def run():
        runner = Runner.from_cfg(cfg)
        for hook in hooks:
            runner.register_hook(hook, 'LOWEST')
        if checkpoint:
            problem = check_checkpoint(checkpoint, runner.model)
            if problem:
                sys.exit(f'error: {problem}')
        getattr(runner, action)()
        release_distributed(runner)

    run_reporting_errors(run, cfg.work_dir, checkpoint)


def release_distributed(runner) -> None:
    """After a distributed run: free the DDP-wrapped model, then destroy the
    process group, so that nothing of DDP is left for interpreter exit (with
    torch 2.13 and gloo, a DDP model alive at exit aborts the process in
    about one CPU run in eight, after the run itself succeeded)."""
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    runner.model = None
    gc.collect()
    torch_dist.destroy_process_group()


def init_or_exit(cfg, checkpoint, device):
    """The config's model with ``checkpoint`` loaded, or exit with one line
    when the checkpoint does not fit it (hg_plugin.apis.init_checked_model)."""

    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return init_checked_model(cfg, checkpoint, device)
    except CheckpointMismatchError as e:
        sys.exit(f'error: {e}')
