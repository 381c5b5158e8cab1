"""Train a pose model from an MMPose config (hg_plugin configs or any other).

    python tools/train.py configs/hg8_mpii_256.py [--resume [CKPT]] [--amp [bf16|fp16]]
        [--channels-last] [--compile] [--with-cp] [--stagewise-backward]

MMPose's tools/train.py flags (--work-dir, --resume, --amp, --no-validate,
--auto-scale-lr, --show-dir, --show, --interval, --wait-time, --cfg-options,
--launcher) mean what they mean there: MMPose's own merge_args applies them.
Ours on top: the speed flags, --allow-checkpoint-global, checks of config,
data and checkpoint before the run, and one line for any failure.
"""
import argparse
import os
import os.path as osp
import sys

from _cli import (add_mmpose_args, add_speed_args, apply_speed_args,
                  load_config, route_warnings_to_stdout, run_checked)
from mmengine.config import DictAction


def parse_args():
    parser = argparse.ArgumentParser(description='Train a pose model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a value from the '
        'latest checkpoint in the work dir (an error if there is none; '
        '"if-possible": from scratch then)')
    add_mmpose_args(parser, train=True)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    add_speed_args(parser, train=True)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args):
    if_possible = args.resume == 'if-possible'
    if if_possible:
        args.resume = 'auto'
    if args.resume not in (None, 'auto') and not osp.isfile(args.resume):
        sys.exit(f'error: checkpoint to resume from not found: {args.resume}')
    cfg = load_config(args, 'train')
    apply_speed_args(cfg, args, train=True)
    # never overwrite an earlier run, never resume from nothing silently,
    # whatever config is trained (ours list the hook already)
    hooks = cfg.get('custom_hooks', [])
    guard = next((h for h in hooks if h.get('type') == 'WorkDirGuardHook'),
                 None)
    if guard is None:
        guard = dict(type='WorkDirGuardHook')
        cfg.custom_hooks = [*hooks, guard]
    if if_possible:
        guard['resume_if_possible'] = True
    return cfg


def main():
    args = parse_args()
    route_warnings_to_stdout()
    cfg = build_cfg(args)
    loaders = ['train_dataloader'] + ([] if args.no_validate else
                                      ['val_dataloader'])
    run_checked(cfg, args.config, loaders, 'train', cfg.get('load_from'))


if __name__ == '__main__':
    main()
