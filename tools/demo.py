"""The main job on the embedded default: make the synthetic MPII-format data,
train a small stacked hourglass on it, evaluate PCKh on the held-out split
with MMPose's MpiiPCKAccuracy, and draw predictions to a PNG.

    python tools/demo.py [--work-dir work_dirs/demo] [--epochs N]
        [--record docs/demo.json]

Its numbers go to ``<work-dir>/demo.json`` (metrics, machine, minutes);
``--record`` also writes them where README's numbers are read from
(``make demo`` records to docs/demo.json; tools/docs_numbers.py).
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import time

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from mmpose.apis import inference_topdown, init_model
from mmpose.visualization import PoseLocalVisualizer

import hg_plugin  # noqa: F401  (registers the models)
from hg_plugin.synthetic import make_synthetic_mpii

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'hg2_synthetic_demo.py')
TARGET_PCKH = 0.7


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--data-root', default='data/synthetic_mpii/')
    p.add_argument('--epochs', type=int, help='override max_epochs')
    p.add_argument('--num-train', type=int, default=1000)
    p.add_argument('--num-val', type=int, default=200)
    p.add_argument('--record', help='also write the numbers to this file '
                   '(docs/demo.json: what README reports)')
    return p.parse_args()


def write_numbers(paths, metrics, minutes, args, resumed) -> None:
    """The run's numbers, with where and how long it ran (``resumed``:
    it continued an earlier run's training)."""
    numbers = dict(
        pckh=metrics['PCK'] / 100, **{'pckh_0.1': metrics['PCK@0.1'] / 100},
        minutes=minutes, resumed=resumed, num_train=args.num_train,
        num_val=args.num_val,
        machine=f'{os.cpu_count()} CPU cores '
        f'({platform.processor() or platform.machine()}), '
        f'torch {torch.__version__}',
        date=time.strftime('%Y-%m-%d'),
        load=round(os.getloadavg()[0], 1))  # other work on the machine
    for path in paths:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(numbers, f, indent=1)
            f.write('\n')


def ensure_data(root: str, num_train: int, num_val: int) -> None:
    stamp = osp.join(root, 'annotations', 'generated.json')
    want = dict(num_train=num_train, num_val=num_val, seed=0)
    if osp.isfile(stamp) and json.load(open(stamp)) == want:
        return
    print(f'[demo] generating {num_train}+{num_val} synthetic figures '
          f'in {root}', flush=True)
    make_synthetic_mpii(root, num_train, num_val, seed=0)
    json.dump(want, open(stamp, 'w'))


def draw_predictions(cfg, checkpoint: str, root: str, out_png: str,
                     count: int = 8) -> None:
    """Top-down inference through MMPose's API on held-out images, drawn by
    MMPose's PoseLocalVisualizer with the dataset's colours: for each image
    the ground truth (left) beside the prediction (right)."""
    model = init_model(cfg, checkpoint, device='cpu')
    vis = PoseLocalVisualizer(radius=2, line_width=1)
    vis.set_dataset_meta(model.dataset_meta)
    records = json.load(open(osp.join(root, 'annotations', 'mpii_val.json')))
    tiles = []
    for rec in records[:count]:
        img = cv2.imread(osp.join(root, 'images', rec['image']))
        gt = np.array(rec['joints'], np.float32)
        box = np.concatenate([gt.min(0) - 8, gt.max(0) + 8])[None]
        sample = inference_topdown(model, img, box)[0]
        sample.gt_instances = InstanceData(
            keypoints=gt[None], keypoints_visible=np.ones((1, len(gt))))
        vis.add_datasample('demo', img[..., ::-1].copy(), sample,
                           draw_gt=True, draw_bbox=False, kpt_thr=0.0,
                           show=False)
        tiles.append(vis.get_image()[..., ::-1])
    rows = [np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)]
    cv2.imwrite(out_png, np.vstack(rows))


def main():
    args = parse_args()
    start = time.time()
    # a second run resumes what the first left: its minutes are not a
    # whole run's, and the record says so
    resumed = osp.isfile(osp.join(args.work_dir, 'last_checkpoint'))
    ensure_data(args.data_root, args.num_train, args.num_val)
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = args.work_dir
    if args.data_root != 'data/synthetic_mpii/':
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            cfg[loader].dataset.data_root = args.data_root
        cfg.val_dataloader.dataset.headbox_file = osp.join(
            args.data_root, 'annotations', 'mpii_gt_val.mat')
    if args.epochs:
        cfg.train_cfg.max_epochs = args.epochs
        for sched in cfg.param_scheduler[1:]:
            sched.end = sched.T_max = args.epochs
    # evaluate once, after training (below)
    cfg.train_cfg.val_begin = cfg.train_cfg.max_epochs + 1
    # a second run reuses what the first left: it resumes (a finished run
    # goes straight to evaluation, an interrupted one continues); the first
    # starts from scratch (WorkDirGuardHook: resume if possible)
    cfg.resume, cfg.load_from = True, None
    for hook in cfg.custom_hooks:
        if hook['type'] == 'WorkDirGuardHook':
            hook['resume_if_possible'] = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()  # held-out split, MpiiPCKAccuracy
    pckh = metrics['PCK'] / 100
    ckpt = osp.join(args.work_dir, f'epoch_{cfg.train_cfg.max_epochs}.pth')
    out_png = osp.join(args.work_dir, 'predictions.png')
    draw_predictions(cfg, ckpt, args.data_root, out_png)
    write_numbers([osp.join(args.work_dir, 'demo.json'),
                   *([args.record] if args.record else [])], metrics,
                  (time.time() - start) / 60, args, resumed)
    print(f'[demo] held-out PCKh@0.5 (Mean) = {pckh:.3f}, '
          f'PCKh@0.1 = {metrics["PCK@0.1"] / 100:.3f} '
          f'(target >= {TARGET_PCKH}); checkpoint {ckpt}; '
          f'predictions drawn to {out_png}')
    if pckh < TARGET_PCKH:
        sys.exit(f'[demo] PCKh@0.5 {pckh:.3f} is below the target '
                 f'{TARGET_PCKH}')


if __name__ == '__main__':
    main()
