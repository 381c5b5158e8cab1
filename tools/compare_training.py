"""Loss curves of plain, per-stack-checkpointed and stage-wise training on
the real MPII samples (same seed, same data order, same optimizer).

    python tools/compare_training.py [--data tests/data/mpii]
        [--stacks 4] [--iters 250] [--out docs/stagewise_loss.png]

A narrow hourglass (64 channels, 128x128 input) fits the samples through
MMPose's runner; the per-iteration total loss of each mode goes to a PNG and
a CSV beside it, and PCKh@0.5 on the samples is printed at the end.
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys
import tempfile

import matplotlib
from _cli import guard_outputs, record_outputs
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from hg_plugin import config_path
from hg_plugin.datasets import approx_head_boxes, write_headboxes

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODES = {
    'plain': {},
    'with_cp': {'model.backbone.with_cp': True},
    'stagewise': {'model.type': 'StagewiseTopdownPoseEstimator'},
}


def mpii_layout(data: str, root: str) -> str:
    """MMPose's MPII layout over ``data`` (test_mpii.json + images)."""
    ann = osp.join(data, 'test_mpii.json')
    if not osp.isfile(ann):
        sys.exit(f'error: {ann} not found: pass --data, a folder with '
                 'test_mpii.json and its images')
    with open(ann) as f:
        records = json.load(f)
    os.makedirs(osp.join(root, 'annotations'))
    os.symlink(osp.abspath(data), osp.join(root, 'images'))
    for split in ('train', 'val'):
        with open(osp.join(root, 'annotations', f'mpii_{split}.json'),
                  'w') as f:
            json.dump(records, f)
    write_headboxes(osp.join(root, 'annotations', 'mpii_gt_val.mat'),
                    approx_head_boxes(records))
    return root + '/'


def train(mode, root, args, work_dir):
    cfg = Config.fromfile(config_path('hg2_mpii_256'))
    codec = dict(type='MSRAHeatmap', input_size=(128, 128),
                 heatmap_size=(32, 32), sigma=1)
    pipeline = [
        dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs')
    ]
    loader = dict(num_workers=0, persistent_workers=False)
    cfg.merge_from_dict({
        'work_dir': work_dir,
        'model.backbone.num_stacks': args.stacks,
        'model.head.num_stacks': args.stacks,
        'model.head.loss.stack_weights': [1.0] * args.stacks,
        'model.backbone.feat_channels': 64,
        'model.head.decoder': codec,
        'model.test_cfg.flip_test': False,
        'optim_wrapper.optimizer.lr': args.lr,
        'param_scheduler': [],
        'train_cfg': dict(by_epoch=True, max_epochs=args.iters,
                          val_begin=args.iters + 1),
        'train_dataloader': dict(
            cfg.train_dataloader, batch_size=5, **loader,
            dataset=dict(cfg.train_dataloader.dataset, data_root=root,
                         pipeline=pipeline)),
        'val_dataloader': dict(
            cfg.val_dataloader, **loader,
            dataset=dict(cfg.val_dataloader.dataset, data_root=root,
                         headbox_file=root + 'annotations/mpii_gt_val.mat',
                         pipeline=pipeline[:3] + pipeline[4:])),
        'default_hooks.checkpoint': None,
        'default_hooks.logger.interval': 50,
        'randomness': dict(seed=0),
        **MODES[mode],
    })
    cfg.test_dataloader = cfg.val_dataloader
    losses = []

    class Record(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            losses.append(float(outputs['loss']))

    runner = Runner.from_cfg(cfg)
    runner.register_hook(Record())
    runner.train()
    return losses, runner.val_loop.run()['PCK']


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=osp.join(REPO, 'tests', 'data', 'mpii'))
    p.add_argument('--stacks', type=int, default=4)
    p.add_argument('--iters', type=int, default=250)
    p.add_argument('--lr', type=float, default=2.5e-3,
                   help='10x the paper: 5 samples, a few hundred steps')
    p.add_argument('--modes', nargs='+', default=list(MODES),
                   choices=list(MODES))
    p.add_argument('--out', default=osp.join(REPO, 'docs',
                                             'stagewise_loss.png'))
    p.add_argument('--force', action='store_true',
                   help='overwrite files this tool did not write')
    args = p.parse_args()
    outputs = [args.out, osp.splitext(args.out)[0] + '.csv']
    guard_outputs(outputs, [args.data], 'tools/compare_training.py',
                  args.force, '--out')
    tmp = tempfile.mkdtemp(prefix='hg_compare_')
    root = mpii_layout(args.data, osp.join(tmp, 'mpii'))
    curves, pckh = {}, {}
    for mode in args.modes:
        curves[mode], pckh[mode] = train(mode, root, args,
                                         osp.join(tmp, mode))
    fig, ax = plt.subplots(figsize=(7, 4))
    for mode, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses,
                label=f'{mode} (PCKh@0.5 {pckh[mode]:.1f})',
                linestyle='--' if mode == 'with_cp' else '-')
    ax.set_yscale('log')
    ax.set_xlabel('iteration (batch = the 5 real MPII samples)')
    ax.set_ylabel('total loss (sum over stacks)')
    ax.set_title(f'hg{args.stacks} (64 ch, 128x128): plain vs checkpointed '
                 'vs stage-wise backward', fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=110)
    with open(osp.splitext(args.out)[0] + '.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['iteration', *curves])
        w.writerows([i + 1, *(f'{curves[m][i]:.6f}' for m in curves)]
                     for i in range(len(next(iter(curves.values())))))
    record_outputs(outputs, 'tools/compare_training.py')
    for mode, losses in curves.items():
        marks = ', '.join(f'{i}: {losses[i - 1]:.4f}' for i in
                          (1, 10, 50, 100, len(losses)) if i <= len(losses))
        print(f'{mode:10s} loss at iteration {marks}; '
              f'PCKh@0.5 on the samples {pckh[mode]:.1f}')


if __name__ == '__main__':
    main()
