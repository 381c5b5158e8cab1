"""Fold inference-mode BatchNorm into the convolution right before it.

A conv followed directly by BN computes ``gamma * (W x + b - mean) / std +
beta``: one conv with weights ``W * gamma / std`` and bias ``(b - mean) *
gamma / std + beta``. In the stacked hourglass that is ``bn2`` (after
``conv1``) and ``bn3`` (after ``conv2``) of every residual, the stem's
conv-BN and each stack's 1x1 conv-BN: 2/3 of its BN layers. ``bn1`` of each
residual acts on the block's input (pre-activation) and stays.
"""
import torch
from torch import nn

from .backbones.stacked_hourglass import conv_bn_pairs


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Fold ``bn``'s running statistics and affine into ``conv`` in place."""
    with torch.no_grad():
        scale = bn.weight * (bn.running_var + bn.eps).rsqrt()
        bias = conv.bias if conv.bias is not None else torch.zeros_like(
            bn.running_mean)
        conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
        new_bias = (bias - bn.running_mean) * scale + bn.bias
        if conv.bias is None:
            conv.bias = nn.Parameter(new_bias)
        else:
            conv.bias.copy_(new_bias)


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every BN that directly follows a conv in ``model`` (in eval
    mode: inference only) and replace it with ``nn.Identity``. Pairs are the
    consecutive (Conv2d, BatchNorm2d) children of ``nn.Sequential`` blocks
    and the ``conv1``/``bn2``, ``conv2``/``bn3`` pairs of
    :class:`~hg_plugin.models.backbones.stacked_hourglass.Residual`.

    Returns the number of BN layers folded. The model is put in eval mode;
    training it afterwards would train a different network, so do this on
    a copy made for inference or export.
    """
    model.eval()
    folded = 0
    for module in list(model.modules()):
        for conv_name, bn_name in conv_bn_pairs(module):
            conv = getattr(module, conv_name)
            bn = getattr(module, bn_name)
            if (type(conv) is nn.Conv2d and type(bn) is nn.BatchNorm2d
                    and bn.track_running_stats and bn.affine):
                fold_conv_bn(conv, bn)
                setattr(module, bn_name, nn.Identity())
                folded += 1
    return folded
