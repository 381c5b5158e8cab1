"""Newell et al., "Stacked Hourglass Networks for Human Pose Estimation", ECCV 2016.

The whole network, with the paper's names: ``Residual`` (the pre-activation
bottleneck), ``Hourglass`` (recursive, depth ``n``) and ``StackedHourglass``
(stem + N hourglasses with intermediate heatmaps re-injected between stacks).
"""
from contextlib import contextmanager, nullcontext
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from ..fused_bn_relu import bn_relu
from .state_dict_fit import check_module_load


def hourglass_stride(depth: int) -> int:
    """What input sides must be multiples of: the stem halves twice, then
    each of the ``depth`` poolings of an hourglass once."""
    return 4 * 2**depth


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1) -> nn.Sequential:
    """Conv -> BN -> ReLU. The conv has no bias: a bias feeding a BN is
    removed by the batch mean in training, and in eval is the same as a
    shift of BN's running mean (:func:`fold_dead_biases`)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                  padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


def conv_bn_pairs(module: nn.Module) -> List[Tuple[str, str]]:
    """(conv, BN) child names of ``module`` where the conv's output goes
    straight into the BN: ``conv1``/``bn2`` and ``conv2``/``bn3`` of a
    :class:`Residual`, consecutive (Conv2d, BatchNorm2d) children of an
    ``nn.Sequential``. The one list of them (BN folding uses it too)."""
    if isinstance(module, Residual):
        return [('conv1', 'bn2'), ('conv2', 'bn3')]
    if isinstance(module, nn.Sequential):
        names = list(module._modules)
        return [(a, b) for a, b in zip(names, names[1:])
                if type(module._modules[a]) is nn.Conv2d
                and isinstance(module._modules[b], nn.BatchNorm2d)]
    return []


def dead_bias_keys(net: nn.Module) -> Dict[str, str]:
    """State-dict key of each conv bias that feeds a BN (in checkpoints of
    the reference implementations and of hg_plugin before 0.3) -> the key of
    that BN's running mean, relative to ``net``."""
    out = {}
    for name, module in net.named_modules():
        pre = f'{name}.' if name else ''
        for conv, bn in conv_bn_pairs(module):
            out[f'{pre}{conv}.bias'] = f'{pre}{bn}.running_mean'
    return out


def fold_dead_biases(state_dict: Dict, keys: Dict[str, str],
                     prefix: str = '') -> int:
    """Drop each conv bias of ``keys`` (:func:`dead_bias_keys`, under
    ``prefix``) from ``state_dict`` in place, shifting the running mean of
    the BN it feeds by it: ``BN(Wx + b)`` with mean ``m`` is ``BN(Wx)``
    with mean ``m - b``, exactly, in eval; in training the batch mean
    removes ``b``. Returns how many were folded."""
    folded = 0
    for bias_key, mean_key in keys.items():
        bias = state_dict.pop(prefix + bias_key, None)
        if bias is None:
            continue
        mean = prefix + mean_key
        if mean in state_dict:
            state_dict[mean] = state_dict[mean] - bias.to(
                state_dict[mean].dtype)
        folded += 1
    return folded


class Residual(nn.Module):
    """Pre-activation bottleneck: BN-ReLU-1x1(f/2), BN-ReLU-3x3(f/2),
    BN-ReLU-1x1(f); a 1x1 conv on the skip only when channels change.
    ``conv1`` and ``conv2`` feed a BN and have no bias (the same function:
    :func:`fold_dead_biases`).

    Shapes: (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        mid = out_channels // 2
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_channels, 1)
        self.relu = nn.ReLU(inplace=True)  # safe: BN never needs its output
        self.skip = (nn.Identity() if in_channels == out_channels else
                     nn.Conv2d(in_channels, out_channels, 1))
        self.fused = False  # StackedHourglass(fused_bn_relu=...)

    def act(self, bn: nn.BatchNorm2d, x: Tensor) -> Tensor:
        """ReLU(BN(x)): one Triton op with ``fused`` while training on a
        GPU (:func:`~hg_plugin.models.fused_bn_relu.bn_relu`), else two."""
        return bn_relu(x, bn) if self.fused else self.relu(bn(x))

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(self.act(self.bn1, x))
        out = self.conv2(self.act(self.bn2, out))
        out = self.conv3(self.act(self.bn3, out))
        out += self.skip(x)  # safe: conv3 does not need its output
        return out


class Hourglass(nn.Module):
    """Hourglass of depth ``n``: ``up1`` keeps the resolution; the lower branch
    max-pools, recurses (a plain residual at n=1) and upsamples (nearest x2).

    Shapes: (B, C, H, W) -> (B, C, H, W); H and W divisible by 2**n.
    """

    def __init__(self, n: int, channels: int):
        super().__init__()
        self.up1 = Residual(channels, channels)
        self.pool = nn.MaxPool2d(2, 2)
        self.low1 = Residual(channels, channels)
        self.low2 = (Hourglass(n - 1, channels)
                     if n > 1 else Residual(channels, channels))
        self.low3 = Residual(channels, channels)
        self.up2 = nn.Upsample(scale_factor=2, mode='nearest')

    def forward(self, x: Tensor, lows: Optional[list] = None) -> Tensor:
        """``lows``: a list that collects the top-down path's features just
        before each upsample (``low``, at 2x this level's stride), the
        shallowest level first: the feature pyramid of ``out_type=
        'pyramid'``."""
        low = self.low1(self.pool(x))
        low = self.low2(low, lows) if isinstance(self.low2, Hourglass) \
            else self.low2(low)
        low = self.low3(low)
        if lows is not None:
            lows.insert(0, low)
        out = self.up1(x)
        out += self.up2(low)  # safe: nothing saved the residual's sum
        return out


@MODELS.register_module()
class StackedHourglass(BaseModule):
    """Newell's stacked hourglass network with intermediate supervision.

    Stem: 7x7/2 conv-BN-ReLU (3->f/4), Residual(f/4->f/2), 2x2 max-pool,
    Residual(f/2->f/2), Residual(f/2->f): for f=256 exactly the paper's
    64, 128, 128, 256. Each stack: Hourglass(depth) -> Residual -> 1x1
    conv-BN-ReLU (``features``) -> 1x1 conv to K heatmaps (``outs``). Between
    stacks: ``x = x + merge_features(features) + merge_preds(heatmaps)``.

    Args:
        num_stacks (int): Number of hourglass modules N (>= 1). Default: 8.
        num_keypoints (int): Number of heatmaps K. Default: 16 (MPII).
        feat_channels (int): Channels f inside the hourglasses. Default: 256.
        depth (int): Number of poolings in each hourglass. Default: 4.
        stem_channels (Sequence[int], optional): Widths (a, b, c) of the stem
            conv(3->a), Residual(a->b), pool, Residual(b->c),
            Residual(c->f). Default: (f/4, f/2, f/2), the paper's 64-128-128
            for f=256; bearpaw/pytorch-pose uses (64, 128, 256).
        out_type (str): ``'heatmaps'`` returns every stack's heatmaps, for
            :class:`StackedHeatmapHead`; ``'features'`` returns every stack's
            f-channel features so MMPose heads (``HeatmapHead``, ``CPMHead``)
            can sit on top (the in-network K-channel maps are then latent, and
            the last stack's heatmap conv is not built); ``'pyramid'``
            returns the last stack's features at the strides
            ``out_strides`` (4: the stack's output; 8, 16, ...: its
            hourglass's top-down path just before each upsample), for
            MMPose's pyramid necks (``YOLOXPAFPN``, ``HybridEncoder``,
            ``CSPNeXtPAFPN``, ``ChannelMapper``); the in-network heatmaps
            are latent as with ``'features'``. Default: 'heatmaps'.
        out_strides (Sequence[int]): With ``out_type='pyramid'``: the
            strides returned, each 4 or 4 * 2**i for 1 <= i <= depth
            (e.g. (8, 16, 32) needs depth >= 3). Default: (8, 16, 32).
        out_channels (Sequence[int], optional): With ``out_type=
            'pyramid'``: project each returned level to these channels with
            a 1x1 conv (new keys ``pyramid_proj.*``; the network's own keys
            do not change). Default: None (f channels each).
        norm_eval (bool): Keep BN layers in eval mode while training (frozen
            running statistics), as MMPose's ResNet offers. Default: False.
        with_cp (bool): Per-stack activation checkpointing: while training,
            only each stack's input is kept and the stack is recomputed in
            backward (BN running statistics are updated once, not twice).
            The last stack is not checkpointed: its backward comes first, so
            recomputing it would only cost time. Default: False.
        channels_last (bool): Keep weights and activations in channels-last
            memory format: the same numbers, faster convolutions on tensor
            cores and oneDNN (and what the reference code runs without
            saying so: it permutes an NHWC batch). Default: True.
        merge (str): How the next stack's input is computed: ``'sum'``,
            ``x + merge_features(f) + merge_preds(h)`` as written in the
            paper, or ``'concat'``, the same function as one 1x1 conv on
            ``cat(f, h)`` with the two convs' weights side by side (one
            kernel, one output pass; same parameters and checkpoints).
            Default: 'concat'.
        fused_bn_relu (bool): Run each residual's BN -> ReLU pairs as one
            Triton op while training on a GPU (forward and backward; the
            same function, :mod:`hg_plugin.models.fused_bn_relu`); elsewhere,
            and in eval, PyTorch's two ops. Default: False (not yet measured
            on a GPU).
        heatmap_stride (int): Heatmaps at 1/4 of the input (4, the paper)
            or 1/2 (2): an extra stage before each heatmap layer upsamples
            the features x2 (nearest) and applies a 3x3 conv-BN-ReLU to f/2
            channels; the heatmaps are average-pooled back to 1/4 before
            re-injection. Default: 4.
        allow_partial_load (bool): Whether a checkpoint may leave weights of
            this backbone missing or of another shape (MMEngine then warns and
            keeps them random, e.g. to fine-tune on another keypoint set).
            By default such a load - through any loader: MMPose's Inferencer
            and demos, ``load_from``, ``--resume``, ``init_cfg`` - raises
            :class:`~.state_dict_fit.CheckpointMismatchError`
            naming the first mismatching keys and the shipped configs the
            checkpoint fits. Default: False.
        init_cfg (dict, optional): Initialization config. Default: None,
            i.e. PyTorch's defaults, as in the reference implementations.

    Shapes:
        input: (B, 3, H, W) with H, W divisible by ``4 * 2**depth``.
        output: tuple of N tensors (B, K, H/4, W/4) for ``'heatmaps'`` or
        (B, f, H/4, W/4) for ``'features'``.
    """

    def __init__(self,
                 num_stacks: int = 8,
                 num_keypoints: int = 16,
                 feat_channels: int = 256,
                 depth: int = 4,
                 stem_channels: Optional[Sequence[int]] = None,
                 out_type: str = 'heatmaps',
                 out_strides: Sequence[int] = (8, 16, 32),
                 out_channels: Optional[Sequence[int]] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 channels_last: bool = True,
                 merge: str = 'concat',
                 fused_bn_relu: bool = False,
                 heatmap_stride: int = 4,
                 allow_partial_load: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        for name, value in (('num_stacks', num_stacks), ('depth', depth),
                            ('num_keypoints', num_keypoints)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'StackedHourglass: `{name}` must be an '
                                 f'integer >= 1, got {value!r}')
        if feat_channels < 4 or feat_channels % 4:
            raise ValueError('StackedHourglass: `feat_channels` must be a '
                             f'positive multiple of 4, got {feat_channels!r}')
        if out_type not in ('heatmaps', 'features', 'pyramid'):
            raise ValueError("StackedHourglass: `out_type` must be "
                             "'heatmaps', 'features' or 'pyramid', got "
                             f"{out_type!r}")
        self.out_strides = tuple(out_strides)
        if out_type == 'pyramid':
            allowed = [4 * 2**i for i in range(depth + 1)]
            bad = [st for st in self.out_strides if st not in allowed]
            if bad or not self.out_strides:
                raise ValueError(
                    f'StackedHourglass(depth={depth}): out_strides '
                    f'{self.out_strides} must come from {allowed} (the '
                    'hourglass halves its 1/4 input depth times): lower '
                    'the strides or raise depth (and make the input sizes '
                    f'multiples of 4 * 2**depth)')
            if out_channels is not None and len(out_channels) != len(
                    self.out_strides):
                raise ValueError(
                    f'StackedHourglass: out_channels {tuple(out_channels)} '
                    f'needs one entry per out_strides {self.out_strides}')
        if heatmap_stride not in (2, 4):
            raise ValueError('StackedHourglass: `heatmap_stride` must be 4 '
                             f'or 2, got {heatmap_stride!r}')
        if merge not in ('sum', 'concat'):
            raise ValueError("StackedHourglass: `merge` must be 'sum' or "
                             f"'concat', got {merge!r}")
        self.num_stacks, self.depth, self.out_type = num_stacks, depth, out_type
        self.merge_impl = merge
        self.norm_eval, self.with_cp = norm_eval, with_cp
        self.channels_last = channels_last
        self.allow_partial_load = allow_partial_load
        self.heatmap_stride = heatmap_stride
        f, k = feat_channels, num_keypoints
        a, b, c = stem_channels or (f // 4, f // 2, f // 2)
        self.pre = nn.Sequential(
            conv_bn_relu(3, a, 7, stride=2), Residual(a, b), nn.MaxPool2d(2, 2),
            Residual(b, c), Residual(c, f))
        self.hgs = nn.ModuleList(Hourglass(depth, f) for _ in range(num_stacks))
        self.features = nn.ModuleList(
            nn.Sequential(Residual(f, f), conv_bn_relu(f, f, 1))
            for _ in range(num_stacks))
        num_outs = num_stacks if out_type == 'heatmaps' else num_stacks - 1
        # a checkpoint of the network loads without them (they keep their
        # initialisation): hourglass weights under a pyramid neck
        self.optional_key_prefixes = ('pyramid_proj.',)
        self.pyramid_proj = nn.ModuleList(
            nn.Conv2d(f, c, 1) for c in out_channels) \
            if out_type == 'pyramid' and out_channels else None
        if heatmap_stride == 4:
            self.outs = nn.ModuleList(nn.Conv2d(f, k, 1)
                                      for _ in range(num_outs))
        else:  # an upsampling stage before the heatmap layer
            self.outs = nn.ModuleList(
                nn.Sequential(nn.Upsample(scale_factor=2, mode='nearest'),
                              conv_bn_relu(f, f // 2, 3),
                              nn.Conv2d(f // 2, k, 1))
                for _ in range(num_outs))
        self.merge_features = nn.ModuleList(
            nn.Conv2d(f, f, 1) for _ in range(num_stacks - 1))
        self.merge_preds = nn.ModuleList(
            nn.Conv2d(k, f, 1) for _ in range(num_stacks - 1))
        self.dead_bias_keys = dead_bias_keys(self)
        for m in self.modules():
            if isinstance(m, Residual):
                m.fused = fused_bn_relu
        if channels_last:  # in-place init and checkpoint loading keep it
            self.to(memory_format=torch.channels_last)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints with biases before BNs (ours before 0.3, the reference
        # implementations'): folded into the BNs' running means, exactly
        fold_dead_biases(state_dict, self.dead_bias_keys, prefix)
        if not self.allow_partial_load:
            check_module_load(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    @property
    def stride(self) -> int:
        """Input size must be a multiple of this (stem /4, then 2**depth)."""
        return hourglass_stride(self.depth)

    def check_input_size(self, h: int, w: int) -> None:
        """Raise a clear error for an input the hourglass cannot halve."""
        if h % self.stride or w % self.stride:
            raise ValueError(
                f'StackedHourglass(depth={self.depth}) needs input height and '
                f'width divisible by {self.stride} (stem /4, then {self.depth}'
                f' halvings), got {h}x{w}: set the codec `input_size` to a '
                f'multiple of {self.stride}, e.g. 256x256 or 256x192.')

    def stem(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) image -> (B, f, H/4, W/4) input of the first stack."""
        self.check_input_size(*x.shape[-2:])
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.pre(x)

    def stack(self, i: int, x: Tensor, lows: Optional[list] = None
              ) -> Tuple[Tensor, Optional[Tensor]]:
        """Stack ``i`` on its input ``x`` (B, f, H/4, W/4): returns the
        (B, f, H/4, W/4) features and the (B, K, H/4, W/4) heatmaps (``None``
        for the last stack with ``out_type='features'``); ``lows`` collects
        its hourglass's top-down features (see :meth:`Hourglass.forward`)."""
        features = self.features[i](self.hgs[i](x, lows))
        heatmaps = self.outs[i](features) if i < len(self.outs) else None
        return features, heatmaps

    def merge(self, i: int, x: Tensor, features: Tensor,
              heatmaps: Tensor) -> Tensor:
        """Input of stack ``i + 1``: ``x + merge_features(features) +
        merge_preds(heatmaps)`` (heatmap re-injection)."""
        mf, mp = self.merge_features[i], self.merge_preds[i]
        if self.heatmap_stride == 2:
            heatmaps = F.avg_pool2d(heatmaps, 2)
        if self.merge_impl == 'concat':
            merged = F.conv2d(torch.cat((features, heatmaps), 1),
                              torch.cat((mf.weight, mp.weight), 1),
                              mf.bias + mp.bias)
        else:
            merged = mf(features)
            merged += mp(heatmaps)
        return x + merged

    def _stack_and_merge(self, i: int, x: Tensor):
        features, heatmaps = self.stack(i, x)
        return self.merge(i, x, features, heatmaps), features, heatmaps

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stem(x)
        outputs = []
        for i in range(self.num_stacks):
            if self.with_cp and x.requires_grad and i < self.num_stacks - 1:
                modules = (self.hgs[i], self.features[i])
                # under torch.compile the recomputation is traced and does
                # not update BN statistics twice; dynamo takes no context_fn
                context = {} if torch.compiler.is_compiling() else dict(
                    context_fn=lambda: (nullcontext(),
                                        bn_stats_kept(*modules)))
                x, features, heatmaps = checkpoint(
                    self._stack_and_merge, i, x, use_reentrant=False,
                    preserve_rng_state=False,  # no random layers
                    **context)
            elif i < self.num_stacks - 1:
                x, features, heatmaps = self._stack_and_merge(i, x)
            else:
                lows = [] if self.out_type == 'pyramid' else None
                features, heatmaps = self.stack(i, x, lows)
                if lows is not None:
                    return self._pyramid(features, lows)
            outputs.append(heatmaps if self.out_type == 'heatmaps' else
                           features)
        if self.out_type == 'features':  # for any MMPose head or neck, some
            # of whose ops (mmcv's DeformConv2d in DEKR) need NCHW tensors
            outputs = [f.contiguous() for f in outputs]
        return tuple(outputs)


    def _pyramid(self, features: Tensor, lows: list) -> Tuple[Tensor, ...]:
        """The last stack's levels at ``out_strides`` (stride 4: its
        features; 8, 16, ...: the top-down path), projected where
        ``out_channels`` says, NCHW-contiguous for any neck."""
        by_stride = {4: features, **{8 * 2**i: low for i, low in
                                     enumerate(lows)}}
        outs = [by_stride[st] for st in self.out_strides]
        if self.pyramid_proj is not None:
            outs = [proj(o) for proj, o in zip(self.pyramid_proj, outs)]
        return tuple(o.contiguous() for o in outs)


@contextmanager
def bn_stats_kept(*modules: nn.Module):
    """Restore BN running statistics after a checkpoint's recomputation, so
    that a checkpointed training step updates them exactly once."""
    bns = [m for mod in modules for m in mod.modules()
           if isinstance(m, nn.modules.batchnorm._BatchNorm)
           and m.track_running_stats and m.training]
    saved = [[t.clone() for t in (m.running_mean, m.running_var,
                                  m.num_batches_tracked)] for m in bns]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, (mean, var, count) in zip(bns, saved):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)
