"""Convolutions that feed a batch-norm have no bias (a no-op in training,
a shift of the running mean in eval); checkpoints that have them - ours
before 0.3, the reference implementations' - load with each bias folded
into its BN's running mean: the same outputs and gradients."""
import copy

import torch
from torch import nn

from hg_plugin.models.backbones import StackedHourglass
from hg_plugin.models.backbones.stacked_hourglass import (conv_bn_pairs,
                                                          dead_bias_keys)


def net(**kw):
    torch.manual_seed(0)
    return StackedHourglass(num_stacks=2, num_keypoints=4, feat_channels=16,
                            depth=2, channels_last=False, **kw)


def with_biases(model):
    """The same network as it was before 0.3: every conv that feeds a BN
    gets a bias (random, as after training), weights copied."""
    old = copy.deepcopy(model)
    torch.manual_seed(1)
    for module in old.modules():
        for conv_name, _ in conv_bn_pairs(module):
            conv = getattr(module, conv_name)
            biased = nn.Conv2d(conv.in_channels, conv.out_channels,
                               conv.kernel_size, conv.stride, conv.padding)
            biased.weight.data.copy_(conv.weight.data)
            biased.bias.data.uniform_(-0.5, 0.5)
            setattr(module, conv_name, biased)
    for m in old.modules():  # trained-looking BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    return old


def test_no_conv_that_feeds_a_bn_has_a_bias():
    model = StackedHourglass(num_stacks=8)
    pairs = [(m, c) for m in model.modules() for c, _ in conv_bn_pairs(m)]
    assert len(pairs) == 239  # of hg8's convolutions
    assert all(getattr(m, c).bias is None for m, c in pairs)
    assert set(model.dead_bias_keys) == set(dead_bias_keys(model))
    # every other convolution keeps its bias
    others = [m for m in model.modules() if isinstance(m, nn.Conv2d)
              and all(getattr(p, c) is not m for p, c in pairs)]
    assert others and all(m.bias is not None for m in others)


def test_an_old_checkpoint_loads_folded_with_equal_eval_outputs():
    new = net()
    old = with_biases(new)
    sd = old.state_dict()
    assert sum(k in sd for k in new.dead_bias_keys) == len(
        new.dead_bias_keys)
    new.load_state_dict(sd)  # strict: nothing missing or unexpected
    assert all(k in sd for k in new.dead_bias_keys)  # input untouched
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(old.eval()(x), new.eval()(x)):
            torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)


def test_training_losses_and_gradients_equal_the_biased_network():
    # in fp64: two fp32 runs of the *same* small batch-normed network
    # differ by up to 1e-2 in gradient on some inputs (a ReLU kink
    # amplifies rounding ~1e4; measured on two CPUs), so equal functions
    # are shown where rounding is 1e-16
    new = net().double()
    old = with_biases(new).double()
    new.load_state_dict(old.state_dict())
    torch.manual_seed(2)
    x = torch.randn(4, 3, 64, 64, dtype=torch.float64)
    losses = []
    for model in (old.train(), new.train()):
        model.zero_grad()
        loss = sum((o - 0.1).square().mean() for o in model(x))
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-10, atol=0)
    old_grads = dict(old.named_parameters())
    scale = max(p.grad.norm() for p in old.parameters())
    for name, p in new.named_parameters():
        g = old_grads[name].grad
        err = (p.grad - g).norm()
        # fp64 rounding, relative to each tensor's gradient; a gradient
        # that is zero in exact arithmetic (every path to the loss goes
        # through a BN: biases) is rounding noise, bounded absolutely
        assert err <= 1e-8 * g.norm() or (g.norm() < 1e-10 * scale and
                                          err < 1e-10 * scale), name
    for name in new.dead_bias_keys:  # what was dropped got no gradient
        assert old_grads[name].grad.norm() < 1e-10 * scale, name
    # BN running statistics moved the same way (means shifted by the bias)
    sd_new, sd_old = new.state_dict(), old.state_dict()
    for bias, mean in new.dead_bias_keys.items():
        torch.testing.assert_close(sd_new[mean], sd_old[mean] - sd_old[bias],
                                   rtol=1e-10, atol=1e-12)
