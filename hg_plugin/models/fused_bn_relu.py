"""Training-mode batch-norm + ReLU as one Triton operation, forward and
backward (Speed III item 4).

Each pre-activation residual starts with BN -> ReLU. Run as two PyTorch
ops, a training step reads and writes the activation once for BN and once
more for ReLU, in forward and in backward; fused, the ReLU costs no pass of
its own: forward = one statistics pass + one normalise-and-clamp pass;
backward = one pass that sums the gradient's two per-channel reductions
(recomputing the ReLU mask from the saved BN input) + one pass for the
input gradient. Only the BN input is saved, as BN alone saves it.

The same function as ``relu(batch_norm(x))`` in training (batch
statistics; running statistics updated with BN's momentum and the
unbiased variance): ``tests/models/test_fused_bn_relu.py`` compares
outputs, running statistics and gradients under Triton's interpreter on
the CPU (``TRITON_INTERPRET=1``), and on a GPU where one is lent.
Statistics are summed in fp32, shifted by the running mean (so that
``E[x^2] - E[x]^2`` does not cancel), with atomic adds: their order is not
fixed, so two runs agree to fp32 rounding, not bit for bit.

Inputs: a channels-last (N, C, H, W) tensor (fp32, bf16 or fp16); weights
in fp32. :func:`bn_relu` falls back to the two PyTorch ops for anything
else (eval mode, NCHW, CPU tensors outside the interpreter, no Triton).
"""
import os

import torch
from torch import Tensor, nn
from torch.nn import functional as F

try:
    import triton  # (the CUDA build of torch ships Triton,
    import triton.language as tl  # a CPU-only build does not)
except ImportError:  # pragma: no cover - then bn_relu is the PyTorch pair
    triton = None

BLOCK_M, BLOCK_C = 128, 32


def available(x: Tensor) -> bool:
    """Whether the fused op can run on ``x``."""
    return triton is not None and (
        x.is_cuda or os.environ.get('TRITON_INTERPRET') == '1')


def bn_relu(x: Tensor, bn: nn.BatchNorm2d) -> Tensor:
    """``relu(bn(x))``: fused while ``bn`` trains on a channels-last
    tensor where Triton runs, the two PyTorch ops otherwise."""
    if (bn.training and bn.track_running_stats and bn.momentum is not None
            and bn.affine and x.dim() == 4 and available(x)
            and x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous()):  # (C=1 or 1x1 maps: both layouts)
        bn.num_batches_tracked.add_(1)
        return _BNReLU.apply(x, bn.weight, bn.bias, bn.running_mean,
                             bn.running_var, bn.momentum, bn.eps)
    return F.relu(bn(x))


if triton is not None:
    @triton.jit
    def _block(M, C, BLOCK_M: tl.constexpr, BLOCK_C: tl.constexpr):
        """This program's (BLOCK_M, BLOCK_C) tile of the (M, C) rows:
        element offsets, its channels, their mask and the tile's mask."""
        rows = (tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)).to(
            tl.int64)
        cols = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
        cmask = cols < C
        mask = (rows[:, None] < M) & cmask[None, :]
        return rows[:, None] * C + cols[None, :], cols, cmask, mask

    @triton.jit
    def _stats_kernel(x_ptr, shift_ptr, sum_ptr, sq_ptr, M, C,
                      BLOCK_M: tl.constexpr, BLOCK_C: tl.constexpr):
        """Per-channel sums of (x - shift) and its square."""
        at, cols, cmask, mask = _block(M, C, BLOCK_M, BLOCK_C)
        shift = tl.load(shift_ptr + cols, mask=cmask, other=0.)
        x = tl.load(x_ptr + at, mask=mask, other=0.).to(tl.float32)
        d = tl.where(mask, x - shift[None, :], 0.)
        tl.atomic_add(sum_ptr + cols, tl.sum(d, 0), mask=cmask)
        tl.atomic_add(sq_ptr + cols, tl.sum(d * d, 0), mask=cmask)

    @triton.jit
    def _forward_kernel(x_ptr, y_ptr, scale_ptr, offset_ptr, M, C,
                        BLOCK_M: tl.constexpr, BLOCK_C: tl.constexpr):
        """y = max(x * scale + offset, 0)."""
        at, cols, cmask, mask = _block(M, C, BLOCK_M, BLOCK_C)
        scale = tl.load(scale_ptr + cols, mask=cmask, other=0.)
        offset = tl.load(offset_ptr + cols, mask=cmask, other=0.)
        x = tl.load(x_ptr + at, mask=mask, other=0.).to(tl.float32)
        y = tl.maximum(x * scale[None, :] + offset[None, :], 0.)
        tl.store(y_ptr + at, y.to(y_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def _grad_stats_kernel(x_ptr, dy_ptr, scale_ptr, offset_ptr, mean_ptr,
                           sg_ptr, sgx_ptr, M, C, BLOCK_M: tl.constexpr,
                           BLOCK_C: tl.constexpr):
        """Per-channel sums of g and g * (x - mean), g = dy where the
        output was positive (the ReLU mask, recomputed)."""
        at, cols, cmask, mask = _block(M, C, BLOCK_M, BLOCK_C)
        scale = tl.load(scale_ptr + cols, mask=cmask, other=0.)
        offset = tl.load(offset_ptr + cols, mask=cmask, other=0.)
        mean = tl.load(mean_ptr + cols, mask=cmask, other=0.)
        x = tl.load(x_ptr + at, mask=mask, other=0.).to(tl.float32)
        dy = tl.load(dy_ptr + at, mask=mask, other=0.).to(tl.float32)
        on = (x * scale[None, :] + offset[None, :] > 0) & mask
        g = tl.where(on, dy, 0.)
        tl.atomic_add(sg_ptr + cols, tl.sum(g, 0), mask=cmask)
        tl.atomic_add(sgx_ptr + cols, tl.sum(g * (x - mean[None, :]), 0),
                      mask=cmask)

    @triton.jit
    def _backward_kernel(x_ptr, dy_ptr, dx_ptr, scale_ptr, offset_ptr,
                         mean_ptr, c1_ptr, c2_ptr, M, C,
                         BLOCK_M: tl.constexpr, BLOCK_C: tl.constexpr):
        """dx = scale * (g - c1 - (x - mean) * c2)."""
        at, cols, cmask, mask = _block(M, C, BLOCK_M, BLOCK_C)
        scale = tl.load(scale_ptr + cols, mask=cmask, other=0.)[None, :]
        offset = tl.load(offset_ptr + cols, mask=cmask, other=0.)[None, :]
        mean = tl.load(mean_ptr + cols, mask=cmask, other=0.)[None, :]
        c1 = tl.load(c1_ptr + cols, mask=cmask, other=0.)[None, :]
        c2 = tl.load(c2_ptr + cols, mask=cmask, other=0.)[None, :]
        x = tl.load(x_ptr + at, mask=mask, other=0.).to(tl.float32)
        dy = tl.load(dy_ptr + at, mask=mask, other=0.).to(tl.float32)
        g = tl.where(x * scale + offset > 0, dy, 0.)
        dx = scale * (g - c1 - (x - mean) * c2)
        tl.store(dx_ptr + at, dx.to(dx_ptr.dtype.element_ty), mask=mask)


def _rows(x: Tensor) -> Tensor:
    """A channels-last (N, C, H, W) tensor as its (N*H*W, C) rows (a view)."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


def _grid(m: int, c: int):
    return (triton.cdiv(m, BLOCK_M), triton.cdiv(c, BLOCK_C))


class _BNReLU(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum,
                eps):
        rows = _rows(x)
        m, c = rows.shape
        shift = running_mean.detach().float().contiguous()
        sums = torch.zeros(2, c, device=x.device, dtype=torch.float32)
        _stats_kernel[_grid(m, c)](rows, shift, sums[0], sums[1], m, c,
                                   BLOCK_M, BLOCK_C)
        d = sums[0] / m
        mean = shift + d
        var = (sums[1] / m - d * d).clamp_min(0)
        rstd = torch.rsqrt(var + eps)
        scale = (weight.float() * rstd).contiguous()
        offset = (bias.float() - mean * scale).contiguous()
        with torch.no_grad():  # BN's update: unbiased variance
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
            running_var.mul_(1 - momentum).add_(
                var * (m / max(m - 1, 1)), alpha=momentum)
        y = torch.empty_like(x)  # channels-last, as x
        _forward_kernel[_grid(m, c)](rows, _rows(y), scale, offset, m, c,
                                     BLOCK_M, BLOCK_C)
        ctx.save_for_backward(x, scale, offset, mean, rstd)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, scale, offset, mean, rstd = ctx.saved_tensors
        dy = dy.contiguous(memory_format=torch.channels_last)
        rows, drows = _rows(x), _rows(dy)
        m, c = rows.shape
        sums = torch.zeros(2, c, device=x.device, dtype=torch.float32)
        _grad_stats_kernel[_grid(m, c)](rows, drows, scale, offset, mean,
                                        sums[0], sums[1], m, c, BLOCK_M,
                                        BLOCK_C)
        sum_g, sum_gx = sums[0], sums[1]
        c1 = (sum_g / m).contiguous()
        c2 = (sum_gx * rstd * rstd / m).contiguous()
        dx = torch.empty_like(x)
        _backward_kernel[_grid(m, c)](rows, drows, _rows(dx), scale, offset,
                                      mean, c1, c2, m, c, BLOCK_M, BLOCK_C)
        return dx, sum_gx * rstd, sum_g, None, None, None, None
