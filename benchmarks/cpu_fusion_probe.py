"""Can hg8's element-wise work be fused on the CPU, exactly, faster than
PyTorch's own kernels? Two probes at hg8's shapes (batch 4, 256 channels,
channels-last, fp32), each candidate alternating with the eager code it
would replace (forward + backward), printed as a markdown table:

- batch norm + ReLU in training mode: eager vs ``torch.compile`` of the pair
  (inductor's fused C++ kernel);
- the hourglass's nearest x2 upsample + add: ``F.interpolate`` then ``+=``
  vs one in-place broadcast add into a 2x2 view of the output (writes the
  sum once, no upsampled temporary).

Usage: python benchmarks/cpu_fusion_probe.py [--repeat 30] [--threads 2]
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn


def upsample_add(out, low):
    out = out.clone()
    out += F.interpolate(low, scale_factor=2, mode='nearest')
    return out


def upsample_add_once(out, low):
    out = out.clone()
    _, _, h, w = low.shape
    out.unflatten(3, (w, 2)).unflatten(2, (h, 2)).add_(
        low[:, :, :, None, :, None])
    return out


def timed(fn, make_inputs, grad):
    inputs = [t.requires_grad_() for t in make_inputs()]
    start = time.perf_counter()
    fn(*inputs).backward(grad)
    return time.perf_counter() - start


def alternate(a, b, make_inputs, repeat):
    """Minimum and median ms of ``a`` and ``b``, run alternately."""
    grad = torch.randn_like(a(*make_inputs()))
    times = {a: [], b: []}
    for fn in (a, b):  # warm-up (compilation included)
        timed(fn, make_inputs, grad)
    for _ in range(repeat):
        for fn in (a, b):
            times[fn].append(timed(fn, make_inputs, grad) * 1e3)
    return [(min(times[f]), statistics.median(times[f])) for f in (a, b)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeat', type=int, default=30)
    p.add_argument('--threads', type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cl = torch.channels_last
    print(f'{torch.__version__}, {args.threads} threads, {args.repeat} '
          'alternating repeats, forward + backward, ms (min / median)\n')
    print('| operation | shape | eager | candidate | candidate / eager '
          '(min) | same numbers |')
    print('|---|---|---|---|---|---|')
    bn = nn.BatchNorm2d(128).train()

    def bn_relu(x):
        return F.relu(bn(x))

    fused = torch.compile(bn_relu)
    for shape in [(4, 128, 64, 64), (4, 128, 16, 16)]:
        x = torch.randn(shape).contiguous(memory_format=cl)
        (ea, em), (ca, cm) = alternate(bn_relu, fused, lambda: [x.clone()],
                                       args.repeat)
        same = torch.allclose(bn_relu(x), fused(x), atol=1e-5)
        print(f'| BN + ReLU, compiled | {shape} | {ea:.2f} / {em:.2f} | '
              f'{ca:.2f} / {cm:.2f} | {ca / ea:.2f}x | {same} (1e-5) |')
    for shape in [(4, 256, 32, 32), (4, 256, 16, 16), (4, 256, 8, 8)]:
        n, c, h, w = shape
        out = torch.randn(n, c, 2 * h, 2 * w).contiguous(memory_format=cl)
        low = torch.randn(shape).contiguous(memory_format=cl)
        (ea, em), (ca, cm) = alternate(
            upsample_add, upsample_add_once,
            lambda: [out.clone(), low.clone()], args.repeat)
        same = torch.equal(upsample_add(out, low),
                           upsample_add_once(out, low))
        print(f'| nearest x2 upsample + add, one write | {shape} (low) | '
              f'{ea:.2f} / {em:.2f} | {ca:.2f} / {cm:.2f} | {ca / ea:.2f}x '
              f'| {same} |')


if __name__ == '__main__':
    main()
