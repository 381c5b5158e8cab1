"""Evaluate a checkpoint (PCKh per joint, Mean, Mean@0.1 for MPII).

    python tools/test.py configs/hg8_mpii_256.py work_dirs/.../best_PCK_epoch_N.pth
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a pose model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save evaluation logs')
    parser.add_argument('--out', help='dump predictions to this pickle file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    from hg_plugin.utils.cli import route_warnings_to_stdout
    route_warnings_to_stdout()
    for path, what in ((args.config, 'config'), (args.checkpoint,
                                                  'checkpoint')):
        if not osp.isfile(path):
            sys.exit(f'error: {what} not found: {path}')
    cfg = Config.fromfile(args.config)  # imports hg_plugin (custom_imports)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    from hg_plugin.compat import adapt_cfg_to_device
    from hg_plugin.utils import (check_checkpoint, check_config,
                                 missing_data_message, run_reporting_errors)
    adapt_cfg_to_device(cfg)
    problem = check_config(cfg)
    if problem:
        sys.exit(f'error: {args.config}: {problem}')
    message = missing_data_message(cfg, ['test_dataloader'])
    if message:
        sys.exit(message)
    if args.out:
        cfg.test_evaluator = [*(cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]),
            dict(type='DumpResults', out_file_path=args.out)]

    def run():
        runner = Runner.from_cfg(cfg)
        problem = check_checkpoint(args.checkpoint, runner.model)
        if problem:
            sys.exit(f'error: {problem}')
        runner.test()

    run_reporting_errors(run, cfg.work_dir)


if __name__ == '__main__':
    main()
