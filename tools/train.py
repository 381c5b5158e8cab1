"""Train a pose model from an MMPose config (hg_plugin configs or any other).

    python tools/train.py configs/hg8_mpii_256.py [--resume [CKPT]] [--amp]
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Train a pose model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a value from the '
        'latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision training (AmpOptimWrapper)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate checkpoints during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual total batch size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args) -> Config:
    if not osp.isfile(args.config):
        sys.exit(f'error: config not found: {args.config}')
    cfg = Config.fromfile(args.config)  # imports hg_plugin (custom_imports)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        if not osp.isfile(args.resume):
            sys.exit(f'error: checkpoint to resume from not found: '
                     f'{args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    from hg_plugin.compat import adapt_cfg_to_device
    adapt_cfg_to_device(cfg)
    return cfg


def main():
    args = parse_args()
    from hg_plugin.utils.cli import route_warnings_to_stdout
    route_warnings_to_stdout()
    cfg = build_cfg(args)
    from hg_plugin.utils import (check_checkpoint, check_config,
                                 missing_data_message, run_reporting_errors)
    problem = check_config(cfg)
    if problem:
        sys.exit(f'error: {args.config}: {problem}')
    loaders = ['train_dataloader'] + ([] if args.no_validate else
                                      ['val_dataloader'])
    message = missing_data_message(cfg, loaders)
    if message:
        sys.exit(message)

    def run():
        runner = Runner.from_cfg(cfg)
        if cfg.get('load_from'):
            problem = check_checkpoint(cfg.load_from, runner.model)
            if problem:
                sys.exit(f'error: {problem}')
        runner.train()

    run_reporting_errors(run, cfg.work_dir)


if __name__ == '__main__':
    main()
