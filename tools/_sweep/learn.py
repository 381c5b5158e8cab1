"""Whether a mixed config *learns*, not only runs: MMPose's own
tools/train.py overfits the real samples of tests/data (the training set is
the few samples; no validation) for a fixed number of iterations, and the
log shows the loss falling and the head's own training accuracy rising.

What it changes in the config, and why (everything else is the config's
own: model, codec, head, loss, optimizer, lr):
- the training pipeline without its random augmentation (flip, half-body,
  box jitter, photometric, Albumentation; Mosaic/MixUp via the config's
  second stage): a few samples are then learnable in a few hundred
  iterations, and the signal is the model's, not the augmentation's noise;
- a short lr warm-up instead of the config's schedule: a zoo warm-up
  (RTMPose: 1000 iterations from 1e-5 of the lr) would keep the lr near
  zero for the whole check, and none (the config's lr from the first
  step) makes RTMPose's SimCC loss jump 30x before it falls: linear from
  1e-3 of the config's lr to all of it over the first quarter, then
  constant;
- an iteration loop of ``iters`` with MMEngine's 10-iteration window means
  logged every 10 iterations.
A one-iteration COCO AP is ~0 whatever the model does, and AP stays at 0
for hundreds of iterations on 12 persons even for MMPose's own models
from scratch; the training loss and accuracy are the usable signals.
"""
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, List, Tuple

from mmengine.config import Config

from hg_plugin.config_file import write_config
from hg_plugin.shipped_configs import mmpose_dir

from .samples import sample_overrides, why_no_samples

# augmentation only: dropping them leaves the geometry and targets
RANDOM = ('RandomFlip', 'RandomHalfBody', 'RandomBBoxTransform',
          'PhotometricDistortion', 'Albumentation', 'YOLOXHSVRandomAug')
WINDOW = 10  # iterations per logged value
# learns: where the head logs a training accuracy, it rose by ACC_GAIN
# and the loss fell from where the warm-up ended (the config's own lr) by
# LOSS_DROP_WITH_ACC (RTMPose's SimCC loss rises during the warm-up - its
# zoo lr is for batches of hundreds - and then falls 10x while its
# accuracy rises); where it logs none, the loss fell by LOSS_DROP of its
# first value
ACC_GAIN, LOSS_DROP_WITH_ACC, LOSS_DROP = 0.1, 0.5, 0.5
WARMUP = 4  # the warm-up is the first 1/WARMUP of the iterations


def learn_overrides(cfg, work: str, iters: int) -> Dict:
    """The config keys of the learning check (module docstring)."""
    out = sample_overrides(cfg, work)
    train = out['train_dataloader']
    pipeline = train['dataset'].get('pipeline') or \
        cfg.train_dataloader.dataset.pipeline
    train['dataset']['pipeline'] = [
        dict(t) for t in pipeline
        if t['type'].split('.')[-1] not in RANDOM]
    train['batch_size'] = 2
    out.update(
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=iters, val_interval=iters + 1),
        param_scheduler=[dict(type='LinearLR', start_factor=1e-3,
                              by_epoch=False, begin=0,
                              end=max(1, iters // WARMUP))],
        default_hooks=dict(
            checkpoint=dict(interval=iters, by_epoch=False),
            logger=dict(interval=WINDOW, log_metric_by_epoch=False)),
        log_processor=dict(by_epoch=False, window_size=WINDOW,
                           num_digits=6),  # (a heatmap MSE is ~1e-3)
        randomness=dict(seed=0))
    return out


def logged(log: str, key: str) -> List[Tuple[int, float]]:
    """(iteration, value) of every training value of ``key`` in an
    MMEngine log, in order."""
    out = []
    for line in log.splitlines():
        it = re.search(r'Iter\(train\) \[\s*(\d+)/\d+\]', line)
        value = re.search(rf'\s{re.escape(key)}: (-?[\d.]+(?:e-?\d+)?)',
                          line)
        if it and value:
            out.append((int(it[1]), float(value[1])))
    return out


def learning_curve(log: str) -> Dict:
    """First and last logged loss and accuracy (``acc_pose``, where the head
    logs one) and whether they meet the check (``ACC_GAIN`` ...)."""
    loss, acc = logged(log, 'loss'), logged(log, 'acc_pose')
    total = re.search(r'Iter\(train\) \[\s*\d+/(\d+)\]', log)
    end = int(total[1]) // WARMUP if total else 0
    # (by a share of its size: RLE's loss, a negative log-likelihood, can
    # start below 0)
    start = next((v for i, v in loss if i >= end), None) if acc else (
        loss[0][1] if loss else None)
    out = dict(loss=(loss[0][1], loss[-1][1]) if loss else None,
               acc=(acc[0][1], acc[-1][1]) if acc else None)
    if acc and start is not None:
        out['loss_after_warmup'] = start
    drop = LOSS_DROP_WITH_ACC if acc else LOSS_DROP
    out['learns'] = start is not None and start - loss[-1][1] > drop * abs(
        start) and (not acc or acc[-1][1] >= acc[0][1] + ACC_GAIN)
    return out


def describe(curve: Dict) -> str:
    """'yes (loss 0.52 -> 0.058, acc 0.00 -> 0.81)' for a report cell."""
    if curve.get('loss') is None:
        return 'failed: no loss in the log'
    a, b = curve['loss']
    text = f'loss {a:.3g} -> {b:.3g}'
    if 'loss_after_warmup' in curve:
        text += f' ({curve["loss_after_warmup"]:.3g} after the warm-up)'
    if curve.get('acc'):
        text += ', acc {:.2f} -> {:.2f}'.format(*curve['acc'])
    return ('yes' if curve['learns'] else 'no') + f' ({text})'


def learns(config_path: str, work: str, iters: int = 200,
           timeout: int = 1800) -> Dict:
    """Train ``config_path`` (a mixed or any MMPose config) on the real
    samples for ``iters`` iterations through MMPose's own tools/train.py in
    ``work``; returns :func:`learning_curve` plus ``why`` on failure."""
    work, config_path = osp.abspath(work), osp.abspath(config_path)
    os.makedirs(work, exist_ok=True)
    cfg = Config.fromfile(config_path)
    reason = why_no_samples(cfg)
    if reason:
        return dict(learns=False, why=f'no samples: {reason}')
    run_cfg = osp.join(work, 'learn_run.py')
    write_config(run_cfg, learn_overrides(cfg, work, iters),
                 base=config_path, imports=(), comments=[
                     'the learning check on the real samples '
                     '(tools/_sweep/learn.py)'])
    log = osp.join(work, 'learn.log')
    try:
        with open(log, 'w') as f:
            r = subprocess.run(
                [sys.executable, mmpose_dir('tools', 'train.py'), run_cfg,
                 '--work-dir', osp.join(work, 'train')], cwd=work, stdout=f,
                stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(learns=False, why=f'over {timeout} s')
    with open(log) as f:
        text = f.read()
    if r.returncode:
        lines = [line for line in text.splitlines() if line.strip()]
        return dict(learns=False, why=(lines[-1] if lines else
                                       f'exit {r.returncode}')[:300])
    return learning_curve(text)
