"""with_cp, channels_last, bf16 autocast and torch.compile give the plain
model's outputs and gradients (numbers only: timings live in
tools/benchmark.py)."""
import copy

import pytest
import torch

from hg_plugin.models.backbones import StackedHourglass
from hg_plugin.models.backbones import stacked_hourglass as sh


def pair(common=(), **option):
    """The paper's layout as written (NCHW, summed merge) and the same
    weights with ``option``."""
    torch.manual_seed(0)
    args = dict(num_stacks=3, num_keypoints=4, feat_channels=16, depth=2,
                channels_last=False, merge='sum', **dict(common))
    plain = StackedHourglass(**args)
    other = StackedHourglass(**{**args, **option})
    other.load_state_dict(plain.state_dict())
    return plain.train(), other.train()


def step(net, x):
    """Outputs, gradients and BN buffers after one training forward/backward
    (a loss on every stack, as intermediate supervision does)."""
    outs = net(x)
    sum((o - 0.5).square().mean() for o in outs).backward()
    grads = {n: p.grad.clone() for n, p in net.named_parameters()}
    return [o.detach().float() for o in outs], grads, {
        n: b.clone() for n, b in net.named_buffers()}


def rel_err(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def assert_same(a, b, tol):
    """Every output, gradient and BN buffer within ``tol`` relative error
    (by norm: summation order differs between memory formats/kernels; the
    biases of convs followed by BN have zero gradient up to rounding, hence
    the 1e-6 floor)."""
    for part_a, part_b in zip(a, b):
        if isinstance(part_a, dict):
            names, part_a, part_b = list(part_a), part_a.values(), [
                part_b[n] for n in part_a]
        else:
            names = [f'stack {i}' for i in range(len(part_a))]
        for name, x, y in zip(names, part_a, part_b):
            err = (x.float() - y.float()).norm().item()
            assert err <= tol * y.float().norm().item() + (tol and 1e-6), (
                name, rel_err(x, y))


X = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


def test_with_cp_same_outputs_grads_and_bn_statistics():
    plain, cp = pair(with_cp=True)
    assert_same(step(plain, X), step(cp, X), tol=0)


def test_with_cp_would_update_bn_twice_without_the_guard(monkeypatch):
    """The guard is what keeps running statistics right: without it the
    recomputation updates them a second time."""
    plain, cp = pair(with_cp=True)
    monkeypatch.setattr(sh, 'bn_stats_kept',
                        lambda *m: __import__('contextlib').nullcontext())
    _, _, bufs_plain = step(plain, X)
    _, _, bufs_cp = step(cp, X)
    name = 'hgs.0.up1.bn1.num_batches_tracked'
    assert bufs_plain[name] == 1 and bufs_cp[name] == 2


def test_with_cp_only_while_training_with_grad(monkeypatch):
    """Checkpointing runs (every stack but the last) only in a training
    forward that builds a graph; eval and no-grad forwards skip it and give
    the plain model's outputs."""
    calls = []
    real = sh.checkpoint
    monkeypatch.setattr(sh, 'checkpoint', lambda *a, **k: calls.append(1)
                        or real(*a, **k))
    plain, cp = pair(with_cp=True)
    with torch.no_grad():
        torch.testing.assert_close(plain(X), cp(X))  # training, no graph
        assert calls == []
        torch.testing.assert_close(plain.eval()(X), cp.eval()(X))
    assert calls == []
    step(cp.train(), X)
    assert len(calls) == cp.num_stacks - 1


def test_with_cp_with_feature_outputs():
    plain, cp = pair(dict(out_type='features'), with_cp=True)
    assert_same(step(plain, X), step(cp, X), tol=0)


def test_channels_last_same_outputs_and_grads():
    plain, cl = pair(channels_last=True)
    assert cl.hgs[0].up1.conv2.weight.is_contiguous(
        memory_format=torch.channels_last)
    # float64: the comparison sees layout mistakes, not rounding order
    plain, cl = plain.double(), cl.double()
    assert cl.hgs[0].up1.conv2.weight.is_contiguous(
        memory_format=torch.channels_last)
    assert_same(step(plain, X.double()), step(cl, X.double()), tol=1e-9)
    # after loading a (contiguous) checkpoint the weights stay channels-last
    cl.load_state_dict(plain.state_dict())
    assert cl.outs[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_bf16_autocast_close_to_fp32():
    plain, amp = pair()
    ref = step(plain, X)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        outs = amp(X)
    assert outs[-1].dtype == torch.bfloat16
    for o, r in zip(outs, ref[0]):  # bf16: ~3 digits, through 3 stacks
        assert rel_err(o, r) < 0.15, rel_err(o, r)


def test_torch_compile_same_outputs_and_grads():
    pytest.importorskip('torch._inductor')
    torch.manual_seed(0)
    args = dict(num_stacks=2, num_keypoints=3, feat_channels=8, depth=1)
    plain = StackedHourglass(**args).train()
    other = copy.deepcopy(plain)
    other.forward = torch.compile(other.forward)  # keys stay the same
    x = X[:, :, :32, :32]
    assert_same(step(plain, x), step(other, x), tol=1e-3)


def test_torch_compile_with_cp_same_grads_and_bn_statistics():
    """Under dynamo the checkpoint takes no BN guard: AOTAutograd's traced
    recomputation must still update running statistics exactly once."""
    plain, cp = pair(with_cp=True)
    cp.forward = torch.compile(cp.forward, backend='aot_eager')
    assert_same(step(plain, X), step(cp, X), tol=1e-6)


def test_fast_layout_is_the_default():
    net = StackedHourglass(num_stacks=2, num_keypoints=3, feat_channels=8,
                           depth=1)
    assert net.channels_last and net.merge_impl == 'concat'
    assert net.pre[0][0].weight.is_contiguous(
        memory_format=torch.channels_last)


def test_concat_merge_same_outputs_and_grads():
    """One conv on cat(f, h) is x + merge_features(f) + merge_preds(h):
    the same outputs, and the gradients of both convs' own parameters."""
    plain, cat = pair(merge='concat')
    plain, cat = plain.double(), cat.double()
    assert_same(step(plain, X.double()), step(cat, X.double()), tol=1e-9)
    assert set(plain.state_dict()) == set(cat.state_dict())


def test_merge_is_checked():
    with pytest.raises(ValueError, match="`merge` must be 'sum' or 'concat'"):
        StackedHourglass(merge='add')


@pytest.mark.parametrize('channels_last', [False, True])
def test_fold_batchnorm_same_inference_outputs(channels_last):
    from hg_plugin.models import fold_batchnorm
    plain, _ = pair()
    plain.train()
    for _ in range(3):  # running statistics away from their initial values
        plain(X * 2 + 1)
    for m in plain.modules():  # and affine parameters away from (1, 0)
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
            torch.nn.init.uniform_(m.bias, -0.5, 0.5)
    plain = plain.double().eval()
    folded = copy.deepcopy(plain)
    if channels_last:
        folded.to(memory_format=torch.channels_last)
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    n_res = sum(isinstance(m, sh.Residual) for m in plain.modules())
    # bn2 + bn3 of every residual, the stem's and each stack's conv-BN
    assert fold_batchnorm(folded) == 2 * n_res + 1 + 3
    left = sum(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert left == n_bn - (2 * n_res + 4) == n_res  # only bn1 (pre-act.)
    with torch.no_grad():
        for a, b in zip(plain(X.double()), folded(X.double())):
            torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)


def test_onnx_export_folds_the_same_batchnorms():
    """The ONNX exporter folds conv->BN pairs itself: a folded and an
    unfolded model export to the same operators, keeping only the
    pre-activation BN of each residual."""
    import io
    from collections import Counter

    onnx = pytest.importorskip('onnx')
    from hg_plugin.models import fold_batchnorm
    net, _ = pair()
    net.eval()

    def ops(model):
        f = io.BytesIO()
        torch.onnx.export(model, (X[:1], ), f, opset_version=17,
                          dynamo=False)
        return Counter(n.op_type for n in
                       onnx.load_from_string(f.getvalue()).graph.node)

    plain = ops(net)
    folded = copy.deepcopy(net)
    fold_batchnorm(folded)
    assert ops(folded) == plain
    assert plain['BatchNormalization'] == sum(
        isinstance(m, sh.Residual) for m in net.modules())
