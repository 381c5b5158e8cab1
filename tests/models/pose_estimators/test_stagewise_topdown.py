"""Stage-wise backward: same forward and losses as the plain model, and the
gradients of the per-stack losses with the stacks cut apart."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

import hg_plugin  # noqa: F401
from tests.models.heads.test_stacked_heatmap_head import CODEC, K, samples

BACKBONE = dict(type='StackedHourglass', num_stacks=3, num_keypoints=K,
                feat_channels=16, depth=2)


def estimator(type, backbone=BACKBONE, **kwargs):
    init_default_scope('mmpose')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type=type, backbone=backbone, **kwargs,
        data_preprocessor=dict(type='PoseDataPreprocessor'),
        head=dict(type='StackedHeatmapHead', num_stacks=3, out_channels=K,
                  loss=dict(type='MultiStackHeatmapLoss',
                            stack_weights=[0.5, 1.0, 2.0]),
                  decoder=CODEC)))


class Recorder(OptimWrapper):
    """Keeps the gradients seen at ``step`` (lr 0: weights unchanged)."""

    def step(self, **kwargs):
        self.grads = {n: p.grad.clone() for n, p in self.named.items()}


def train_step(model, data):
    opt = Recorder(torch.optim.SGD(model.parameters(), lr=0.0))
    opt.named = dict(model.named_parameters())
    log_vars = model.train_step(copy.deepcopy(data), opt)
    return log_vars, opt.grads


def cut_apart_reference(model, data):
    """One backward of the summed per-stack losses, each stack built on
    detached inputs: what stage-wise backward should reproduce."""
    data = model.data_preprocessor(copy.deepcopy(data), True)
    bb, head = model.backbone, model.head
    x, total = bb.stem(data['inputs']), 0
    gt, w = head.targets(data['data_samples'], torch.zeros(1, K, 16, 16))
    for i in range(bb.num_stacks):
        f, h = bb.stack(i, x)
        total = total + head.loss_module.stack_loss(i, h, gt, w)
        if i < bb.num_stacks - 1:
            x = bb.merge(i, x.detach(), f.detach(), h.detach())
    model.zero_grad()
    total.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def data():
    torch.manual_seed(1)
    return dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
                        for _ in range(2)], data_samples=samples())


def test_same_losses_as_plain_model():
    d = data()
    plain_vars, plain_grads = train_step(estimator('TopdownPoseEstimator'), d)
    sw_vars, sw_grads = train_step(
        estimator('StagewiseTopdownPoseEstimator'), d)
    for key in ('loss', 'loss_kpt_stack0', 'loss_kpt_stack1',
                'loss_kpt_stack2', 'acc_pose'):
        torch.testing.assert_close(sw_vars[key], plain_vars[key])
    # the last stack's own layers get the same gradient either way ...
    torch.testing.assert_close(sw_grads['backbone.outs.2.weight'],
                               plain_grads['backbone.outs.2.weight'])
    # ... but stack 0 no longer hears the later stacks' losses
    assert not torch.allclose(sw_grads['backbone.outs.0.weight'],
                              plain_grads['backbone.outs.0.weight'])


def test_gradients_are_those_of_the_cut_apart_stacks():
    d = data()
    model = estimator('StagewiseTopdownPoseEstimator')
    _, grads = train_step(model, d)
    ref = cut_apart_reference(model, d)
    for name in ref:
        torch.testing.assert_close(grads[name], ref[name], atol=1e-7,
                                   rtol=1e-5, msg=name)
    assert grads['backbone.merge_preds.1.weight'].abs().sum() > 0


def test_keeping_the_reinjection_gradient_gives_the_papers_gradients():
    """detach_reinjection=False: backward stack by stack, but the gradients
    of the summed losses through every stack, as the plain model's."""
    d = data()
    _, plain = train_step(estimator('TopdownPoseEstimator'), d)
    _, kept = train_step(estimator('StagewiseTopdownPoseEstimator',
                                   detach_reinjection=False), d)
    for name in plain:  # to rounding (biases before a BN: ~0 +- 1e-6)
        torch.testing.assert_close(kept[name], plain[name], atol=2e-5,
                                   rtol=1e-3, msg=name)
    _, cut = train_step(estimator('StagewiseTopdownPoseEstimator'), d)
    assert not torch.allclose(cut['backbone.outs.0.weight'],
                              plain['backbone.outs.0.weight'])


def test_refuses_other_models():
    with pytest.raises(ValueError, match='StackedHourglass backbone'):
        estimator('StagewiseTopdownPoseEstimator',
                  dict(BACKBONE, out_type='features'))
