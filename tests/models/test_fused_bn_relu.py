"""The fused batch-norm + ReLU computes relu(batch_norm(x)) in training:
outputs, running statistics and the gradients of input, weight and bias -
under Triton's interpreter on the CPU (a process of its own: the
interpreter is chosen when the kernels are defined), and on CUDA where a
GPU is lent (skipped here)."""
import json
import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO

CHECK = r'''
import json, sys
import torch
from torch import nn
from hg_plugin.models.fused_bn_relu import bn_relu
device, dtype = sys.argv[1], getattr(torch, sys.argv[2])
out = {}
# sizes that are no multiple of the kernels' blocks (C 40 = 32 + 8; M 150)
for name, shape, offset in (('odd', (3, 40, 5, 10), 0.0),
                            ('shifted', (2, 24, 6, 7), 5.0)):
    torch.manual_seed(0)
    x = (torch.randn(*shape) * 2 + offset).to(device, dtype).contiguous(
        memory_format=torch.channels_last)
    dy = torch.randn(*shape).to(device, dtype).contiguous(
        memory_format=torch.channels_last)
    errs = {}
    runs = []
    for fused in (False, True):
        bn = nn.BatchNorm2d(shape[1]).to(device)
        torch.manual_seed(1)  # the same affine weights for both
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5), bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.fill_(0.3)
        xi = x.clone().requires_grad_()
        with torch.autocast(device, dtype=dtype,
                            enabled=dtype != torch.float32):
            y = bn_relu(xi, bn) if fused else torch.relu(bn(xi))
        y.backward(dy)
        runs.append(dict(y=y.float(), dx=xi.grad.float(),
                         dw=bn.weight.grad, db=bn.bias.grad,
                         rm=bn.running_mean, rv=bn.running_var,
                         n=bn.num_batches_tracked.float()))
    ref, got = runs
    for k in ref:
        scale = ref[k].abs().max().item() or 1.0
        errs[k] = (got[k] - ref[k]).abs().max().item() / scale
    errs['channels_last'] = bool(y.is_contiguous(
        memory_format=torch.channels_last))
    errs['zeros'] = float((ref['y'] == 0).float().mean())
    out[name] = errs
print('RESULT', json.dumps(out))
'''


NETWORK = r'''
import json, sys
import torch
from hg_plugin.models.backbones import StackedHourglass
device = sys.argv[1]
torch.manual_seed(100)
x = torch.randn(4, 3, 64, 64, device=device)


def run(fused, dtype):
    torch.manual_seed(0)
    net = StackedHourglass(num_stacks=2, num_keypoints=4, feat_channels=16,
                           depth=1, fused_bn_relu=fused).to(device, dtype)
    outs = net.train()(x.to(dtype))
    sum(o.square().sum() for o in outs).backward()
    return dict(outs=torch.cat([o.flatten() for o in outs]),
                grads=torch.cat([p.grad.flatten() for p in net.parameters()]),
                stats=torch.cat([b.flatten() for b in net.buffers()
                                 if b.is_floating_point()])), net


ref, _ = run(False, torch.float64)  # the function, to fp64 rounding
out = {}
for name, fused in (('fused', True), ('pytorch', False)):
    got, net = run(fused, torch.float32)
    out[name] = {k: ((got[k].double() - ref[k]).abs().max() /
                     ref[k].abs().max()).item() for k in ref}
out['counts'] = sorted({int(b) for n, b in net.named_buffers()
                        if n.endswith('num_batches_tracked')})
print('RESULT', json.dumps(out))
'''


def run_check(device, dtype='float32', code=CHECK):
    env = dict(os.environ, TRITON_INTERPRET='1' if device == 'cpu' else '0',
               PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, '-c', code, device, dtype],
                       capture_output=True, text=True, env=env, cwd=REPO,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    line = [ln for ln in r.stdout.splitlines() if ln.startswith('RESULT')]
    return json.loads(line[-1].split(' ', 1)[1])


def check(result, tol):
    for name, errs in result.items():
        assert errs.pop('channels_last'), name
        assert 0.2 < errs.pop('zeros') < 0.8, name  # the ReLU cuts
        for k, err in errs.items():
            assert err < tol, (name, k, err)


def test_fused_bn_relu_is_batch_norm_then_relu_under_the_interpreter():
    check(run_check('cpu'), 1e-5)


@pytest.mark.parametrize('device', [
    'cpu', pytest.param('cuda', marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs CUDA'))])
def test_the_network_with_fused_bn_relu_is_the_same_function(device):
    """A 2-stack hourglass with fused_bn_relu=True in fp32: the outputs,
    parameter gradients and BN statistics of the same network in fp64
    (PyTorch's ops) to 1e-4 - where PyTorch's own fp32 lands (a network
    of batch-norms over a few hundred values each is ill-conditioned:
    fp32 runs of it differ from each other by ~1e-4 to 1e-3)."""
    errs = run_check(device, code=NETWORK)
    assert errs.pop('counts') == [1]  # each BN counted the batch once
    assert max(errs['fused'].values()) < 1e-4, errs
    assert max(errs['pytorch'].values()) < 1e-2, errs  # (a sane reference)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('dtype,tol', [('float32', 1e-5),
                                       ('bfloat16', 2e-2)])
def test_fused_bn_relu_on_cuda(dtype, tol):
    check(run_check('cuda', dtype), tol)


def test_the_pair_runs_where_the_fused_op_cannot():
    """Eval mode, NCHW and CPU tensors outside the interpreter take
    PyTorch's two ops (the same function)."""
    from hg_plugin.models.fused_bn_relu import available, bn_relu
    bn = torch.nn.BatchNorm2d(4)
    x = torch.randn(2, 4, 3, 3)
    assert not available(x) or os.environ.get('TRITON_INTERPRET') == '1'
    torch.testing.assert_close(bn_relu(x, bn), torch.relu(
        torch.nn.BatchNorm2d(4)(x)))
    bn.eval()
    torch.testing.assert_close(bn_relu(x, bn), torch.relu(bn(x)))
