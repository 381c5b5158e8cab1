"""Evaluate a checkpoint (PCKh per joint, Mean, Mean@0.1 for MPII).

    python tools/test.py configs/hg8_mpii_256.py work_dirs/.../best_PCK_epoch_N.pth
        [--out metrics.json] [--dump predictions.pkl] [--show-dir vis]

MMPose's tools/test.py flags (--work-dir, --out, --dump, --show-dir, --show,
--interval, --wait-time, --badcase, --cfg-options, --launcher) mean what they
mean there: MMPose's own merge_args applies them. Ours on top: the speed
flags, --allow-checkpoint-global, checks before the run, one-line errors.
"""
import argparse
import os
import os.path as osp
import sys

from _cli import (add_mmpose_args, add_speed_args, apply_speed_args,
                  load_config, route_warnings_to_stdout, run_checked,
                  save_metrics_hook)
from mmengine.config import DictAction


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a pose model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save evaluation logs')
    add_mmpose_args(parser, train=False)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    add_speed_args(parser, train=False)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    route_warnings_to_stdout()
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint not found: {args.checkpoint}')
    hooks = [save_metrics_hook(args.out)] if args.out else []
    cfg = load_config(args, 'test')
    apply_speed_args(cfg, args, train=False)
    run_checked(cfg, args.config, ['test_dataloader'], 'test',
                args.checkpoint, hooks)


if __name__ == '__main__':
    main()
