import pytest
import torch
from torch import nn

from hg_plugin.models.backbones import Hourglass, Residual, StackedHourglass


def small(**kw):
    args = dict(num_stacks=3, num_keypoints=5, feat_channels=16, depth=2)
    args.update(kw)
    torch.manual_seed(0)
    return StackedHourglass(**args)


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_stem_turns_256_image_into_256x64x64():
    net = StackedHourglass(num_stacks=1)
    assert net.pre(torch.zeros(1, 3, 256, 256)).shape == (1, 256, 64, 64)


def test_output_shapes():
    out = small()(torch.randn(2, 3, 64, 96))
    assert len(out) == 3
    assert all(o.shape == (2, 5, 16, 24) for o in out)
    feats = small(out_type='features')(torch.randn(2, 3, 64, 96))
    assert len(feats) == 3 and all(f.shape == (2, 16, 16, 24) for f in feats)


# Exact counts of Newell's network with conv biases (as the reference code);
# ours drops the biases that feed a BN (the same function), 239 in hg8
@pytest.mark.parametrize('stacks,params', [(1, 3_426_448), (2, 6_570_400),
                                           (4, 12_858_304),
                                           (8, 25_434_112)])
def test_parameter_counts(stacks, params):
    net = StackedHourglass(num_stacks=stacks)
    dead = [net.get_submodule(k.rsplit('.', 1)[0]).out_channels
            for k in net.dead_bias_keys]
    assert count(net) + sum(dead) == params
    assert len(dead) == 2 * (3 + 14 * stacks) + 1 + stacks


def test_hg8_matches_paper_budget():
    """25.4M parameters, 27.4 GMACs at 256x256 (counted at the operator
    level, so the concatenated merge conv counts like the two it replaces)."""
    from torch.utils.flop_counter import FlopCounterMode
    net = StackedHourglass(num_stacks=8).eval()
    assert abs(count(net) / 25.4e6 - 1) < 0.02
    for merge in ('sum', 'concat'):
        net.merge_impl = merge
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(torch.zeros(1, 3, 256, 256))
        assert abs(counter.get_total_flops() / 2 / 27.4e9 - 1) < 0.02


def test_residual_is_preactivation_bottleneck():
    r = Residual(8, 16)
    assert [type(m) for m in r.children()] == [
        nn.BatchNorm2d, nn.Conv2d, nn.BatchNorm2d, nn.Conv2d, nn.BatchNorm2d,
        nn.Conv2d, nn.ReLU, nn.Conv2d]
    assert (r.conv1.out_channels, r.conv2.kernel_size, r.conv3.out_channels) \
        == (8, (3, 3), 16)
    assert isinstance(Residual(16, 16).skip, nn.Identity)
    # the block really is relu(bn) before each conv, plus the skip
    r.eval()
    x = torch.randn(2, 8, 6, 6)
    y = x
    for bn, conv in ((r.bn1, r.conv1), (r.bn2, r.conv2), (r.bn3, r.conv3)):
        y = conv(torch.relu(bn(y)))
    torch.testing.assert_close(r(x), y + r.skip(x))


def test_hourglass_recursion_pools_depth_times():
    hg = Hourglass(4, 8)
    depth, node = 0, hg
    while isinstance(node, Hourglass):
        assert isinstance(node.pool, nn.MaxPool2d)
        assert node.up2.mode == 'nearest' and node.up2.scale_factor == 2
        depth, node = depth + 1, node.low2
    assert depth == 4 and isinstance(node, Residual)
    assert hg(torch.randn(2, 8, 32, 32)).shape == (2, 8, 32, 32)


def test_next_stack_input_is_x_plus_merged_features_and_heatmaps():
    net = small().eval()
    seen = {}
    net.hgs[0].register_forward_hook(
        lambda m, i, o: seen.setdefault('x0', i[0]))
    net.features[0].register_forward_hook(
        lambda m, i, o: seen.setdefault('f0', o))
    net.outs[0].register_forward_hook(lambda m, i, o: seen.setdefault('h0', o))
    net.hgs[1].register_forward_hook(lambda m, i, o: seen.setdefault('x1', i[0]))
    with torch.no_grad():
        net(torch.randn(2, 3, 64, 64))
    expected = seen['x0'] + net.merge_features[0](seen['f0']) + \
        net.merge_preds[0](seen['h0'])
    torch.testing.assert_close(seen['x1'], expected)


def test_stack_heatmaps_feed_the_next_stack():
    """Perturbing stack 0's heatmaps changes stack 1, only via merge_preds."""
    net = small().eval()
    x = torch.randn(1, 3, 64, 64)

    def run(delta):
        h = net.outs[0].register_forward_hook(lambda m, i, o: o + delta)
        with torch.no_grad():
            out = net(x)
        h.remove()
        return out

    base, bumped = run(0.0), run(1.0)
    torch.testing.assert_close(base[0] + 1.0, bumped[0])
    assert (base[1] - bumped[1]).abs().max() > 1e-3
    with torch.no_grad():
        net.merge_preds[0].weight.zero_()
    assert torch.allclose(run(0.0)[1], run(1.0)[1])


def test_gradients_reach_every_stack():
    net = small()
    out = net(torch.randn(2, 3, 64, 64))
    sum(o.square().mean() for o in out).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # the last stack's loss alone reaches the first hourglass too
    net.zero_grad()
    net(torch.randn(2, 3, 64, 64))[-1].square().mean().backward()
    assert net.hgs[0].up1.conv1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('size', [(100, 100), (64, 96 + 8)])
def test_input_it_cannot_halve_is_refused(size):
    with pytest.raises(ValueError, match='divisible by 16'):
        small()(torch.randn(1, 3, *size))


@pytest.mark.parametrize('kw,match', [
    (dict(num_stacks=0), 'num_stacks'), (dict(depth=0), 'depth'),
    (dict(feat_channels=18), 'feat_channels'), (dict(out_type='x'), 'out_type')
])
def test_bad_arguments_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        small(**kw)


def test_feature_mode_builds_no_unused_heatmap_conv():
    net = small(out_type='features')
    assert len(net.outs) == 2
    out = net(torch.randn(1, 3, 64, 64))
    sum(o.mean() for o in out).backward()
    assert all(p.grad is not None for p in net.parameters())


def test_norm_eval_freezes_bn_statistics():
    net = small(norm_eval=True).train()
    before = net.pre[0][1].running_mean.clone()
    net(torch.randn(2, 3, 64, 64) + 3)
    assert torch.equal(before, net.pre[0][1].running_mean)
    assert net.training and not net.pre[0][1].training
    net2 = small().train()
    net2(torch.randn(2, 3, 64, 64) + 3)
    assert not torch.equal(before, net2.pre[0][1].running_mean)


def test_a_checkpoint_that_does_not_fit_is_refused_by_every_loader():
    """MMEngine's loaders are non-strict (Inferencer, demos, load_from,
    init_cfg): they would keep the unloaded weights random and warn. The
    backbone refuses, unless partial loading is asked for."""
    from mmengine.runner.checkpoint import load_state_dict

    from hg_plugin.models.backbones import CheckpointMismatchError
    one = StackedHourglass(num_stacks=1, feat_channels=32)
    other_k = StackedHourglass(num_stacks=2, feat_channels=32,
                               num_keypoints=17)
    two = StackedHourglass(num_stacks=2, feat_channels=32)
    for wrong, what in ((one, r'missing features\.1\..*num_stacks=1'),
                        (other_k, r'other shapes merge_preds\.0\.weight \(32, 17, 1, '
                         r'1\) vs \(32, 16, 1, 1\).*num_keypoints=17')):
        with pytest.raises(CheckpointMismatchError, match=what):
            load_state_dict(two, wrong.state_dict())
        with pytest.raises(CheckpointMismatchError,
                           match='allow_partial_load=True'):
            two.load_state_dict(wrong.state_dict(), strict=False)
    before = two.outs[0].weight.clone()
    load_state_dict(two, two.state_dict())  # a fitting one loads
    tuned = StackedHourglass(num_stacks=2, feat_channels=32,
                             num_keypoints=17, allow_partial_load=True)
    load_state_dict(tuned, two.state_dict())  # fine-tuning: warns only
    torch.testing.assert_close(tuned.hgs[0].up1.conv1.weight,
                               two.hgs[0].up1.conv1.weight)
    assert torch.equal(two.outs[0].weight, before)


def test_heatmaps_at_half_the_input():
    """heatmap_stride=2: an upsampling stage before each heatmap layer;
    re-injection pools the heatmaps back to the stacks' 1/4 resolution."""
    net = StackedHourglass(num_stacks=2, feat_channels=16, depth=2,
                           heatmap_stride=2)
    out = net(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape) for o in out] == [(2, 16, 32, 32)] * 2
    assert isinstance(net.outs[0][0], nn.Upsample)
    # the first stack's heatmaps reach the second stack through the merge
    x = net.stem(torch.randn(1, 3, 64, 64))
    f, h = net.stack(0, x)
    h = h.detach().requires_grad_()
    net.merge(0, x, f, h).sum().backward()
    assert h.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='heatmap_stride'):
        StackedHourglass(heatmap_stride=1)
