"""Where a training step's time goes: hg8 and MMPose's HG52 profiled with
the same settings, self time by operator class (profile.md)."""
import os.path as osp

import torch
from mmengine.optim import build_optim_wrapper
from torch.profiler import ProfilerActivity
from torch.profiler import profile as torch_profile

from .catalog import machine, settings
from .measure import build, fake_batch

CATEGORIES = (  # operator name pieces -> where the time goes
    ('convolution', ('conv', 'mkldnn_convolution', 'cudnn')),
    ('batch norm', ('batch_norm',)),
    ('elementwise (ReLU, add, copy, casts)', (
        'relu', 'threshold', 'clamp', 'add', 'copy', 'to_copy', 'mul',
        'fill', 'zero')),
    ('pool / upsample', ('pool', 'upsample')),
    ('optimizer', ('Optimizer', 'sqrt', 'addcmul', 'div', 'foreach')),
)


def category(name):
    for label, pieces in CATEGORIES:
        if any(p in name for p in pieces):
            return label
    return 'other'


def profile(args):
    """Profile training steps of hg8 and MMPose's HG52 with the same
    settings (``--profile-variant``); write profile.md: time per operator
    class (why one is slower at equal MACs) and the top operators."""
    variant = args.profile_variant
    acts = [ProfilerActivity.CPU] + (
        [ProfilerActivity.CUDA] if args.device == 'cuda' else [])
    attr = ('self_device_time_total' if args.device == 'cuda' else
            'self_cpu_time_total')
    tables, tops = {}, {}
    for name in ('hg8', 'hourglass52-mpii'):
        torch.manual_seed(0)
        cfg, model = build(name, variant, args.device)
        s = settings(variant, args.device)
        model.train()
        optim = dict(cfg.optim_wrapper)
        if s.get('amp'):
            optim.update(type='DeviceAmpOptimWrapper', dtype=s['amp'])
        wrapper = build_optim_wrapper(model, optim)
        data = fake_batch(cfg, args.train_batch, args.device)
        model.train_step(data, wrapper)  # warm-up
        with torch_profile(activities=acts) as prof:
            for _ in range(2):
                model.train_step(data, wrapper)
        events = [e for e in prof.key_averages()
                  if not e.key.startswith('autograd::')]
        per = {}
        for e in events:
            c = category(e.key)
            per[c] = per.get(c, 0) + getattr(e, attr)
        tables[name] = per
        tops[name] = sorted(events, key=lambda e: getattr(e, attr),
                            reverse=True)[:12]
    lines = [f'Training steps (batch {args.train_batch}, 2 steps after a '
             f'warm-up) with the same settings ({variant}: '
             f'{settings(variant, args.device)}), {machine(args.device)}. '
             'Self time by operator class, ms per step:', '',
             '| class | hg8 | HG52 | hg8 / HG52 |', '|---|---|---|---|']
    labels = [label for label, _ in CATEGORIES] + ['other']
    for label in labels + ['total']:
        a, b = ((sum(tables[n].values()) if label == 'total' else
                 tables[n].get(label, 0)) / 2e3
                for n in ('hg8', 'hourglass52-mpii'))
        lines.append(f'| {label} | {a:.0f} | {b:.0f} | '
                     f'{a / b if b else float("nan"):.2f}x |')
    for name in tops:
        total = sum(tables[name].values())
        lines += ['', f'Top operators, {name}:', '',
                  '| operator | calls | self time (ms) | share |',
                  '|---|---|---|---|']
        for e in tops[name]:
            t = getattr(e, attr)
            lines.append(f'| `{e.key}` | {e.count} | {t / 1e3:.0f} | '
                         f'{100 * t / total:.1f}% |')
    with open(osp.join(args.out_dir, 'profile.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
