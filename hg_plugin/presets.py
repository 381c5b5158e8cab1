"""Speed presets: one name for the set of config keys that make a model run
fast on a device (docs/speed.md, "--preset fast").

``fast`` selects, per device (the choice is printed):

- channels-last memory format (``StackedHourglass``: ``channels_last=True``,
  its default; other backbones: ``ChannelsLastHook``) - exact: the same
  numbers in another layout;
- mixed precision in the device's dtype (``DeviceAmpOptimWrapper`` with
  ``dtype='auto'``, autocast in val/test): fp16 with loss scaling on CUDA;
  bf16 on a CPU with AMX tiles (``torch.cpu._is_amx_tile_supported``), none
  on a CPU without them (there bf16 made the hg8 step slower, measured by
  ``tools/benchmark.py``) - *not* exact: results agree to the dtype's
  rounding, not bit for bit;
- on CUDA, ``env_cfg.cudnn_benchmark=True``: cuDNN times its algorithms on
  the first batch of each shape and keeps the fastest (MMPose's default is
  off); the shipped configs feed one fixed input size, so this is paid once.
  Not bit-exact either: another algorithm sums in another order.

``torch.compile`` (``CompileNetworkHook``, ``--compile``) is not part of
it: it made training slower where measured - hg8 and HG52 on an H200 at
batch 64 with channels-last and fp16, after minutes of compilation
(benchmarks/cuda/h200/benchmark.json; docs/speed.md). Nor are Speed III's
levers (``--captured-step``, ``model.backbone.fused_bn_relu``), until a GPU
measures them.
"""
from typing import Dict, List, Optional

import torch

from .engine import amp_dtype_for

PRESETS = ('fast',)


def fast_settings(device: str) -> Dict[str, object]:
    """What ``fast`` turns on for ``device`` ('cuda' or 'cpu')."""
    if device == 'cuda':
        return dict(channels_last=True, amp=amp_dtype_for('cuda'),
                    cudnn_benchmark=True)
    amx = getattr(torch.cpu, '_is_amx_tile_supported', lambda: False)()
    return dict(channels_last=True, cudnn_benchmark=False,
                amp=amp_dtype_for('cpu') if amx else None)


def apply_preset(cfg, name: str, device: Optional[str] = None,
                 train: bool = True) -> List[str]:
    """Set the config keys of preset ``name`` in ``cfg`` (in place); returns
    one line per choice, for the log."""
    if name not in PRESETS:
        raise ValueError(f'unknown preset {name!r}; choose from {PRESETS}')
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    s = fast_settings(device)
    said = []
    hooks = list(cfg.get('custom_hooks', []))
    types = {h.get('type') for h in hooks}
    backbone = cfg.model.get('backbone', {})
    if backbone.get('type') == 'StackedHourglass':
        backbone['channels_last'] = True
    elif 'ChannelsLastHook' not in types:
        hooks.append(dict(type='ChannelsLastHook'))
    said.append('channels-last memory format')
    if s['amp']:
        if train:
            cfg.optim_wrapper.type = 'DeviceAmpOptimWrapper'
            cfg.optim_wrapper.dtype = s['amp']
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        for loop in ('val_cfg', 'test_cfg'):
            if cfg.get(loop) is not None and cfg[loop].get(
                    'type', 'ValLoop') in ('ValLoop', 'TestLoop'):
                cfg[loop].fp16 = True
        said.append(f"mixed precision ({s['amp']})")
    else:
        said.append('no mixed precision (bf16 is slower than fp32 on a CPU '
                    'without AMX)')
    if s['cudnn_benchmark']:
        cfg.setdefault('env_cfg', {})['cudnn_benchmark'] = True
        said.append('cudnn.benchmark (fixed input size)')
    said.append('no torch.compile (measured slower on an H200; --compile '
                'turns it on)')
    cfg.custom_hooks = hooks
    return said
