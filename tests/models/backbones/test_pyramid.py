"""out_type='pyramid': the last stack's hourglass already computes a
feature pyramid (its top-down path before each upsample); the backbone
returns the levels a pyramid neck asks for, the network unchanged."""
import pytest
import torch

from hg_plugin.models.backbones import StackedHourglass


def net(**kw):
    torch.manual_seed(0)
    args = dict(num_stacks=2, num_keypoints=5, feat_channels=16, depth=3,
                channels_last=False)
    args.update(kw)
    return StackedHourglass(**args).eval()


def test_levels_at_the_asked_strides_are_the_top_down_path():
    x = torch.randn(2, 3, 128, 96)
    pyr = net(out_type='pyramid', out_strides=(4, 8, 16, 32))
    outs = pyr(x)
    assert [tuple(o.shape) for o in outs] == [
        (2, 16, 32, 24), (2, 16, 16, 12), (2, 16, 8, 6), (2, 16, 4, 3)]
    # the same weights as the features network: its last stack's output is
    # the stride-4 level, and each deeper level is the hourglass's `low`
    # just before its upsample
    feats = net(out_type='features')
    feats.load_state_dict(pyr.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(outs[0], feats(x)[-1])
        captured = {}
        hg = feats.hgs[-1]
        for level, module in enumerate((hg, hg.low2, hg.low2.low2)):
            module.low3.register_forward_hook(
                lambda m, i, o, level=level: captured.setdefault(level, o))
        feats(x)
    for level in range(3):  # (stack 0's hooks never fire: last stack only)
        torch.testing.assert_close(outs[level + 1], captured[level])


def test_names_of_the_network_do_not_change_and_projections_are_new():
    plain = net(out_type='features')
    pyr = net(out_type='pyramid', out_channels=(64, 128, 256))
    extra = set(pyr.state_dict()) - set(plain.state_dict())
    assert extra and all(k.startswith('pyramid_proj.') for k in extra)
    assert set(plain.state_dict()) <= set(pyr.state_dict())
    outs = pyr(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [64, 128, 256]
    assert all(o.is_contiguous() for o in outs)
    # a checkpoint of the network loads (its projections keep their init)
    before = pyr.pyramid_proj[0].weight.clone()
    pyr.load_state_dict(plain.state_dict(), strict=False)
    assert torch.equal(pyr.pyramid_proj[0].weight, before)
    torch.testing.assert_close(pyr.hgs[0].up1.conv3.weight,
                               plain.hgs[0].up1.conv3.weight)


def test_gradients_reach_every_level():
    pyr = net(out_type='pyramid').train()
    sum(o.mean() for o in pyr(torch.randn(2, 3, 64, 64))).backward()
    assert pyr.hgs[-1].low2.low2.low3.conv3.weight.grad.abs().sum() > 0
    assert pyr.pre[0][0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize('kw,words', [
    (dict(depth=2, out_strides=(8, 16, 32)), 'out_strides (8, 16, 32) must '
     'come from [4, 8, 16]'),
    (dict(out_strides=(8, 12)), 'must come from'),
    (dict(out_channels=(8, 8)), 'needs one entry per out_strides'),
])
def test_strides_the_depth_cannot_give_are_one_line(kw, words):
    with pytest.raises(ValueError, match=words.replace('(', r'\(').replace(
            ')', r'\)').replace('[', r'\[').replace(']', r'\]')):
        net(out_type='pyramid', **kw)
