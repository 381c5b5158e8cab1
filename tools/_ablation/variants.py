"""The ablation variants: settings that differ from one reference, each
written as a config of ``configs/hg2_mpii_256.py`` on the benchmark data.

The reference (every group compares with it): the paper's network at a
CPU scale - 4 stacks of f=32, hourglass depth 3, 128 px input, heatmaps at
1/4 (32 px) with MSRA targets (sigma 2) and the paper's decoding (argmax +
quarter offset), every stack supervised, one backward per step.
"""
from typing import Dict, List, Optional, Tuple

import torch
from torch.utils.flop_counter import FlopCounterMode

from hg_plugin import config_path
from hg_plugin.config_file import write_config
from hg_plugin.models.backbones import StackedHourglass
from hg_plugin.pipelines import topdown_pipelines

BASE = dict(stacks=4, width=32, size=128, stride=4, codec='msra', sup='all',
            sigma=2, schedule=1)  # schedule: times --iters
# name: (group, label, changes to BASE). Widths of the stack variants keep
# parameters about equal (~ stacks x f^2); their MACs are not equal (the
# stem's share differs), so every sentence states them.
VARIANTS = {
    'sup-all': ('sup', 'every stack (paper)', {}),
    'sup-last': ('sup', 'last stack only', dict(sup='last')),
    'stacks-1': ('stacks', '1 stack, f=60', dict(stacks=1, width=60)),
    'stacks-2': ('stacks', '2 stacks, f=44', dict(stacks=2, width=44)),
    'stacks-4': ('stacks', '4 stacks, f=32', {}),
    'stacks-8': ('stacks', '8 stacks, f=24', dict(stacks=8, width=24)),
    'budget-1': ('budget', '1 stack, f=60, 2x iterations',
                 dict(stacks=1, width=60, schedule=2)),
    'budget-2': ('budget', '2 stacks, f=44, 2x iterations',
                 dict(stacks=2, width=44, schedule=2)),
    'budget-4': ('budget', '4 stacks, f=32, 2x iterations',
                 dict(schedule=2)),
    'backward-once': ('backward', 'one backward per step', {}),
    'backward-apart': ('backward', 'stacks trained apart (backward per '
                       'stack, next stack on detached inputs)',
                       dict(sup='apart')),
    'backward-immediate': ('backward', 'immediate update (each stack '
                           'stepped as soon as its loss is back-propagated)',
                           dict(sup='immediate')),
    'res-128': ('res', '128 px in (reference)', {}),
    'res-64': ('res', '64 px in, equal iterations', dict(size=64)),
    'res-64-wide': ('res', '64 px in, f=64: equal MACs', dict(size=64,
                                                              width=64)),
    'res-64-long': ('res', '64 px in, 4x iterations: equal MACs budget',
                    dict(size=64, schedule=4)),
    'hm-4-msra': ('heatmap', '1/4 (32 px), MSRA', {}),
    'hm-4-dark': ('heatmap', '1/4 (32 px), DARK decoding', dict(codec='dark')),
    'hm-4-udp': ('heatmap', '1/4 (32 px), UDP', dict(codec='udp')),
    'hm-2-msra': ('heatmap', '1/2 (64 px), MSRA', dict(stride=2, sigma=4)),
    'hm-2-dark': ('heatmap', '1/2 (64 px), DARK decoding',
                  dict(stride=2, sigma=4, codec='dark')),
    'hm-2-udp': ('heatmap', '1/2 (64 px), UDP',
                 dict(stride=2, sigma=4, codec='udp')),
    'per-stack': ('per-stack', 'each stack of the paper model', {}),
}
# Each group's reference: the variant every other one is compared with.
REFERENCES = {'sup': 'sup-all', 'stacks': 'stacks-4', 'budget': 'budget-4',
              'backward': 'backward-once', 'res': 'res-128',
              'heatmap': 'hm-4-msra'}
# Seeds of every variant of a group, fixed before any run (no seeds are
# added after looking): 5, and 3 for the 2x-iteration runs.
SEEDS = dict({g: 5 for g in REFERENCES}, budget=3)
SEEDS['per-stack'] = 5
# run only when named: res-64 and res-64-wide never flattened at the
# reference's schedule (they answered nothing), stacks-8 is beyond the budget
OPTIONAL = ('stacks-8', 'res-64', 'res-64-wide')
GROUPS = ('sup', 'stacks', 'budget', 'backward', 'res', 'heatmap')
# the backward readings: StagewiseTopdownPoseEstimator's modes ('kept' is
# measured for its cost only: its gradients are one backward's)
STAGEWISE = ('kept', 'apart', 'immediate')


def settings(name: str) -> Dict:
    return dict(BASE, **VARIANTS[name][2])


def is_reference(name: str) -> bool:
    return name in REFERENCES.values()


def reference_of(name: str) -> Optional[str]:
    """The reference variant of ``name``'s group (None for per-stack)."""
    return REFERENCES.get(VARIANTS[name][0])


def seeds_of(name: str, first: int = 0) -> List[int]:
    """The seeds ``name`` is trained with (its group's fixed count)."""
    return list(range(first, first + SEEDS[VARIANTS[name][0]]))


def training_key(s: Dict) -> Tuple:
    """Variants that differ only in decoding or evaluation share a run."""
    key = (s['stacks'], s['width'], s['size'], s['stride'],
           'udp' if s['codec'] == 'udp' else 'msra', s['sup'], s['sigma'])
    # (a longer schedule is marked only where it differs: earlier runs'
    # cache names stay valid)
    return key if s['schedule'] == 1 else key + (f'x{s["schedule"]}',)


def iterations(s: Dict, run: Dict) -> int:
    """The variant's training iterations: ``--iters`` times its schedule."""
    return run['iters'] * s['schedule']


def codec_of(s: Dict) -> Dict:
    size, hm = s['size'], s['size'] // s['stride']
    return dict(type='UDPHeatmap' if s['codec'] == 'udp' else 'MSRAHeatmap',
                input_size=(size, size), heatmap_size=(hm, hm),
                sigma=s['sigma'])


def decoder_options(s: Dict) -> list:
    """``--cfg-options`` of a decoding-only variant (DARK)."""
    if s['codec'] != 'dark':
        return []
    k = 4 * s['sigma'] + 1  # DARK's blur kernel, for this sigma
    return ['model.head.decoder.unbiased=True',
            f'model.head.decoder.blur_kernel_size={k}']


def write_variant_config(path: str, s: Dict, run: Dict, seed: int) -> None:
    """The variant's config: ``configs/hg2_mpii_256.py`` with its network,
    codec and supervision, ``run``'s schedule (iters, evals, batch, lr,
    workers) and data root."""
    codec = codec_of(s)
    model = dict(
        type='StagewiseTopdownPoseEstimator' if s['sup'] in STAGEWISE
        else 'TopdownPoseEstimator',
        backbone=dict(num_stacks=s['stacks'], feat_channels=s['width'],
                      depth=3, heatmap_stride=s['stride']),
        head=dict(num_stacks=s['stacks'], decoder=codec),
        test_cfg=dict(flip_test=False))
    if s['sup'] in STAGEWISE:
        model['mode'] = s['sup']
    if s['sup'] == 'last':
        model['head']['loss'] = dict(
            stack_weights=[0.0] * (s['stacks'] - 1) + [1.0])
    root = run['data_root'].rstrip('/') + '/'
    iters = iterations(s, run)
    val = max(1, iters // run['evals'])
    train, test = topdown_pipelines(codec, use_udp=s['codec'] == 'udp')
    loader = dict(num_workers=run['workers'],
                  persistent_workers=run['workers'] > 0)
    held_out = dict(batch_size=32, **loader, dataset=dict(
        data_root=root, headbox_file=root + 'annotations/mpii_gt_val.mat',
        pipeline=test))
    write_config(path, dict(
        codec=codec, model=model,
        optim_wrapper=dict(optimizer=dict(lr=run['lr'])),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
                 end=max(1, iters // 20)),
            dict(type='CosineAnnealingLR', by_epoch=False, begin=0,
                 end=iters, T_max=iters)],
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=iters, val_interval=val),
        default_hooks=dict(
            logger=dict(interval=max(1, min(50, val)),
                        log_metric_by_epoch=False),
            checkpoint=dict(interval=iters, by_epoch=False, save_best=None,
                            max_keep_ckpts=1)),
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=seed),
        train_dataloader=dict(batch_size=run['batch'], **loader, dataset=dict(
            data_root=root, pipeline=train)),
        val_dataloader=held_out, test_dataloader=held_out,
        val_evaluator=dict(type='MpiiPCKhCurve'),
        test_evaluator=dict(type='MpiiPCKhCurve')),
        base=config_path('hg2_mpii_256'), imports=(), comments=[
            'written by tools/ablation.py: RMSprop as in the paper, a short '
            f'schedule ({iters} iterations): lr {run["lr"]:g} with a',
            'warm-up and cosine decay to 0, so every curve ends flat'])


def model_cost(s: Dict) -> Tuple[int, float]:
    """Parameters and MACs of a variant's network at its input size."""
    net = StackedHourglass(num_stacks=s['stacks'], feat_channels=s['width'],
                           depth=3, heatmap_stride=s['stride']).eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(torch.zeros(1, 3, s['size'], s['size']))
    return sum(p.numel() for p in net.parameters()), fc.get_total_flops() / 2
