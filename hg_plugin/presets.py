"""Speed presets: one name for the set of config keys that make a model run
fast on a device, with the same math (see docs in README "Speed").

``fast`` = channels-last memory format (``StackedHourglass``:
``channels_last=True``, its default; other backbones: ``ChannelsLastHook``)
+ mixed precision in the device's dtype (``DeviceAmpOptimWrapper`` with
``dtype='auto'``, autocast in val/test) -- each only where it pays, as
measured by ``tools/benchmark.py``: on a CPU without AMX, bf16 autocast
made an hg8 training step slower (4.75 s vs 3.38 s, batch 4, 2 cores), so
there the preset is channels-last alone. ``torch.compile``
(``CompileNetworkHook``, ``--compile``) is not part of it: it made training
slower on both devices measured - on an H200 at batch 64 with channels-last
and fp16, hg8 217 vs 266 img/s and HG52 530 vs 763 img/s, after 250 s / 50 s
of compilation (benchmarks/cuda/h200); on the 2-core CPU 3.94 s vs 3.38 s a
step.
"""
from typing import Dict, List, Optional

import torch

from .engine import amp_dtype_for

PRESETS = ('fast',)


def fast_settings(device: str) -> Dict[str, object]:
    """What ``fast`` turns on for ``device`` ('cuda' or 'cpu')."""
    if device == 'cuda':
        return dict(channels_last=True, amp=amp_dtype_for('cuda'))
    amx = getattr(torch.cpu, '_is_amx_tile_supported', lambda: False)()
    return dict(channels_last=True,
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
        said.append('no mixed precision (slower than fp32 on a CPU '
                    'without AMX)')
    said.append('no torch.compile (measured slower on a GPU and on the CPU;'
                ' --compile turns it on)')
    cfg.custom_hooks = hooks
    return said
