"""Evaluate a checkpoint (PCKh per joint, Mean, Mean@0.1 for MPII).

    python tools/test.py configs/hg8_mpii_256.py work_dirs/.../best_PCK_epoch_N.pth
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import DictAction


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a pose model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save evaluation logs')
    parser.add_argument('--out', help='dump predictions to this pickle file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    from _cli import add_speed_args
    add_speed_args(parser, train=False)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    from _cli import route_warnings_to_stdout
    route_warnings_to_stdout()
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint not found: {args.checkpoint}')
    from _cli import apply_speed_args, load_config, run_checked
    cfg = load_config(args)
    apply_speed_args(cfg, args, train=False)
    cfg.load_from = args.checkpoint
    if args.out:
        cfg.test_evaluator = [*(cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]),
            dict(type='DumpResults', out_file_path=args.out)]
    run_checked(cfg, args.config, ['test_dataloader'], 'test',
                args.checkpoint)


if __name__ == '__main__':
    main()
