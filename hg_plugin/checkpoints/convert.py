"""Convert public stacked-hourglass checkpoints to ``StackedHourglass``.

Sources (their state-dict keys are public):

* ``pv``: princeton-vl/pytorch_stacked_hourglass ``PoseNet``. Same network as
  ours. Its ``Residual`` always builds ``skip_layer`` even when channels do not
  change and never uses it there: those tensors are dropped (and listed).
* ``bearpaw``: bearpaw/pytorch-pose ``HourglassNet`` (``hg(num_stacks,
  num_blocks)``). Its stem is 64-128-256-256 where the paper's is
  64-128-128-256, so the result needs ``stem_channels=(64, 128, 256)``. Its
  block count is independent of its stack count: any ``num_blocks=1`` model
  (``hg_s2_b1``, ``hg_s8_b1``, ...) converts; more than one bottleneck per
  residual slot cannot map onto our one-residual-per-slot network and is
  refused, naming the tensors. Its input is RGB in [0, 1] minus the dataset
  mean, not divided by a std (``color_normalize``):
  :data:`BEARPAW_MPII_MEAN`.

State dicts saved before PyTorch 0.4.1 have no BatchNorm
``num_batches_tracked``; those buffers are filled with 0 (they only matter
for ``momentum=None``, which neither source nor we use).

``convert(state_dict, source)`` returns ``(backbone_kwargs, state_dict,
dropped)`` where ``state_dict`` loads into
``StackedHourglass(**backbone_kwargs)`` with ``strict=True``.
"""
import re
from typing import Dict, List, Tuple

import torch

from ..models.backbones import StackedHourglass
from .state_dict_args import hourglass_kwargs


class ConversionError(ValueError):
    """A checkpoint that cannot be mapped onto StackedHourglass."""


PREFIXES = ('model.module.', 'module.', 'model.')
# bearpaw's Mpii.RGB_MEAN (RGB, [0, 1]); its color_normalize subtracts it and
# divides by nothing.
BEARPAW_MPII_MEAN = (0.4404, 0.4440, 0.4327)


def data_preprocessor(source: str) -> Dict:
    """MMPose ``PoseDataPreprocessor`` settings that reproduce the input
    normalisation the source network was trained with (0-255 BGR in)."""
    if source == 'pv':  # RGB / 255
        mean = (0., 0., 0.)
    else:  # RGB / 255 - mean
        mean = tuple(round(255 * m, 4) for m in BEARPAW_MPII_MEAN)
    return dict(type='PoseDataPreprocessor', mean=list(mean),
                std=[255., 255., 255.], bgr_to_rgb=True)

PV_RULES = [
    (r'^pre\.0\.conv\.', 'pre.0.0.'), (r'^pre\.0\.bn\.', 'pre.0.1.'),
    (r'(conv[123])\.conv\.', r'\1.'), (r'skip_layer\.conv\.', 'skip.'),
    (r'^hgs\.(\d+)\.0\.', r'hgs.\1.'),
    (r'^features\.(\d+)\.1\.conv\.', r'features.\1.1.0.'),
    (r'^features\.(\d+)\.1\.bn\.', r'features.\1.1.1.'),
    (r'^outs\.(\d+)\.conv\.', r'outs.\1.'),
    (r'^merge_(features|preds)\.(\d+)\.conv\.conv\.', r'merge_\1.\2.'),
]
BEARPAW_RULES = [
    (r'^conv1\.', 'pre.0.0.'), (r'^bn1\.', 'pre.0.1.'),
    (r'^layer1\.0\.', 'pre.1.'), (r'^layer2\.0\.', 'pre.3.'),
    (r'^layer3\.0\.', 'pre.4.'), (r'downsample\.0\.', 'skip.'),
    (r'^res\.(\d+)\.0\.', r'features.\1.0.'),
    (r'^fc\.(\d+)\.0\.', r'features.\1.1.0.'),
    (r'^fc\.(\d+)\.1\.', r'features.\1.1.1.'),
    (r'^score\.(\d+)\.', r'outs.\1.'), (r'^fc_\.(\d+)\.', r'merge_features.\1.'),
    (r'^score_\.(\d+)\.', r'merge_preds.\1.'),
]
BEARPAW_HG = re.compile(r'^hg\.(\d+)\.hg\.(\d+)\.(\d)\.0\.(.*)$')


def strip_prefix(state_dict: Dict[str, torch.Tensor]) -> Dict:
    """Drop DataParallel / trainer-wrapper prefixes."""
    for prefix in PREFIXES:
        if all(k.startswith(prefix) for k in state_dict):
            return {k[len(prefix):]: v for k, v in state_dict.items()}
    return dict(state_dict)


def _rename(key: str, rules) -> str:
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    return key


def _bearpaw_key(key: str, depth: int) -> str:
    """hg.i.hg.d.j.0.X (level d from the innermost, slot j: 0 up1, 1 low1,
    2 low3, 3 the innermost residual) -> hgs.i.low2.....slot.X"""
    m = BEARPAW_HG.match(key)
    if not m:
        return _rename(key, BEARPAW_RULES)
    stack, level, slot, rest = int(m[1]), int(m[2]), int(m[3]), m[4]
    path = 'low2.' * (depth - 1 - level)
    name = ('up1', 'low1', 'low3', 'low2')[slot]
    rest = re.sub(r'downsample\.0\.', 'skip.', rest)
    return f'hgs.{stack}.{path}{name}.{rest}'


def _bearpaw_depth(sd: Dict[str, torch.Tensor]) -> int:
    """Levels of bearpaw's hourglass 0 (keys ``hg.0.hg.<level>.``)."""
    return len({k.split('.')[3] for k in sd if k.startswith('hg.0.hg.')})


def convert(state_dict: Dict[str, torch.Tensor],
            source: str) -> Tuple[Dict, Dict[str, torch.Tensor], List[str]]:
    """Map a ``pv`` or ``bearpaw`` state dict onto StackedHourglass:
    (its arguments, the state dict, the source keys dropped - PV's unused
    skip layers). Each conv bias that feeds a BN is folded into that BN's
    running mean (the same function; StackedHourglass has no such bias)."""
    if source not in ('pv', 'bearpaw'):
        raise ConversionError(f"unknown source {source!r}: use 'pv' or "
                              "'bearpaw'")
    sd = strip_prefix(state_dict)
    if source == 'pv':
        renamed = {_rename(k, PV_RULES): k for k in sd}
    else:
        depth = _bearpaw_depth(sd)
        renamed = {_bearpaw_key(k, depth): k for k in sd}
    kwargs = hourglass_kwargs({new: sd[old] for new, old in renamed.items()},
                              prefix='')
    if kwargs is None or 'pre.4.conv3.weight' not in renamed:
        raise ConversionError(
            f'not a {source} stacked-hourglass checkpoint: no hourglass '
            'stacks or heatmap layers among its tensors')
    net = StackedHourglass(**kwargs)
    target = net.state_dict()
    # the references' conv biases before BNs: folded into the BNs' running
    # means (hg_plugin.models.backbones.fold_dead_biases), counted apart
    sd = dict(sd)
    for bias, mean in net.dead_bias_keys.items():
        if bias in renamed and mean in renamed:
            old = renamed.pop(bias)
            sd[renamed[mean]] = sd[renamed[mean]] - sd[old]
    for key in target:  # saved before PyTorch 0.4.1: no num_batches_tracked
        old = key.replace('num_batches_tracked', 'running_mean')
        if key.endswith('num_batches_tracked') and key not in renamed and \
                old in renamed:
            renamed[key] = key
            sd[key] = target[key].new_zeros(())
    out, dropped, unmappable = {}, [], []
    for new, old in renamed.items():
        if new in target and target[new].shape == sd[old].shape:
            out[new] = sd[old]
        elif source == 'pv' and '.skip.' in new and new not in target:
            dropped.append(old)  # PV's never-used skip_layer
        else:
            shape = tuple(target[new].shape) if new in target else 'no such'
            unmappable.append(f'{old} {tuple(sd[old].shape)} -> {new} '
                              f'({shape})')
    missing = sorted(set(target) - set(out))
    if unmappable or missing:
        why = (' (that bearpaw model has num_blocks > 1: several bottlenecks '
               'per residual slot; only num_blocks=1 models map, for any '
               'number of stacks)'
               if source == 'bearpaw' else '')
        raise ConversionError(
            f'cannot map {len(unmappable)} {source} tensors onto '
            f'StackedHourglass({kwargs}){why}: ' + '; '.join(unmappable[:6]) +
            (f'; ... {len(unmappable) - 6} more' if len(unmappable) > 6 else
             '') + (f'; missing: {missing[:6]}' if missing else ''))
    return kwargs, out, dropped
