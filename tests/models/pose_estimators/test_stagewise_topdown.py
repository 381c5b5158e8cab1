"""Stage-wise backward: same forward and losses as the plain model, and the
gradients of the per-stack losses with the stacks cut apart."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
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


def _sgd_step(model, d, lr=0.5):
    opt = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
    log_vars = model.train_step(copy.deepcopy(d), opt)
    return log_vars, {n: p.detach().clone()
                      for n, p in model.named_parameters()}


def test_immediate_update_steps_each_stack_before_the_next_runs():
    """mode='immediate': stack 0 (and the stem) get the same update as with
    the stacks apart (each parameter's gradient comes from one loss); stack
    1 is trained on the output of the already updated stack 0."""
    d = data()
    apart_model = estimator('StagewiseTopdownPoseEstimator')
    _, apart = _sgd_step(apart_model, d)
    model = estimator('StagewiseTopdownPoseEstimator', mode='immediate')
    log_vars, imm = _sgd_step(model, d)
    first = ('backbone.pre.', 'backbone.hgs.0.', 'backbone.features.0.',
             'backbone.outs.0.')
    for name in apart:
        if name.startswith(first):
            torch.testing.assert_close(imm[name], apart[name], msg=name)
    assert not torch.allclose(imm['backbone.outs.1.weight'],
                              apart['backbone.outs.1.weight'])
    # by hand: stack 0 stepped, then stack 1's loss on its new output
    ref = estimator('StagewiseTopdownPoseEstimator')
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if name.startswith(first):
                p.copy_(imm[name])
    batch = ref.data_preprocessor(copy.deepcopy(d), True)
    bb, head = ref.backbone, ref.head
    with torch.no_grad():
        bn = [m for m in bb.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        x0 = bb.stem(batch['inputs'])
        f0, h0 = bb.stack(0, x0)
    x1 = bb.merge(0, x0, f0, h0)
    f1, h1 = bb.stack(1, x1)
    gt, w = head.targets(batch['data_samples'], h1)
    ref.zero_grad()
    head.loss_module.stack_loss(1, h1, gt, w).backward()
    for name in ('backbone.outs.1.weight', 'backbone.merge_preds.0.weight',
                 'backbone.hgs.1.up1.conv2.weight'):
        p = dict(ref.named_parameters())[name]
        expected = p.detach() - 0.5 * p.grad
        # stack 2 steps after stack 1: its own parameters only
        torch.testing.assert_close(imm[name], expected, msg=name)
    assert bn  # the recomputation does not update BN statistics twice
    assert all(int(m.num_batches_tracked) == 1 for m in model.modules()
               if isinstance(m, torch.nn.BatchNorm2d))
    plain_vars, _ = train_step(estimator('TopdownPoseEstimator'), d)
    torch.testing.assert_close(log_vars['loss_kpt_stack0'],
                               plain_vars['loss_kpt_stack0'])


def test_graph_kept_gradients_equal_one_backward_on_the_ablation_model():
    """Reading (i) of the seed's question on the ablation's reference
    network (4 stacks, f=32, depth 3, 128 px): each gradient tensor equals
    one backward's to fp32 rounding (relative 1e-5 of its norm). Biases
    that feed a batch-norm have a zero gradient in exact arithmetic; theirs
    are rounding noise, bounded absolutely."""
    net = dict(BACKBONE, num_stacks=4, feat_channels=32, depth=3)
    head = dict(num_stacks=4)

    def build(type, **kw):
        init_default_scope('mmpose')
        torch.manual_seed(0)
        return MODELS.build(dict(
            type=type, backbone=net, **kw,
            data_preprocessor=dict(type='PoseDataPreprocessor'),
            head=dict(type='StackedHeatmapHead', out_channels=K,
                      decoder=dict(CODEC, input_size=(128, 128),
                                   heatmap_size=(32, 32)), **head)))
    torch.manual_seed(1)
    big = samples()
    for sample in big:  # targets at 1/4 of 128 px
        sample.gt_fields = PixelData(heatmaps=torch.rand(K, 32, 32))
    d = dict(inputs=[torch.randint(0, 255, (3, 128, 128), dtype=torch.uint8)
                     for _ in range(2)], data_samples=big)
    _, plain = train_step(build('TopdownPoseEstimator'), d)
    _, kept = train_step(build('StagewiseTopdownPoseEstimator', mode='kept'),
                         d)
    scale = max(g.norm() for g in plain.values())
    dead = 0
    for name, g in plain.items():
        err = (kept[name] - g).norm()
        if g.norm() < 1e-6 * scale:  # a bias before a BN: zero, exactly
            assert err < 1e-6 * scale, name
            dead += 1
        else:
            assert err <= 1e-5 * g.norm(), (name, float(err / g.norm()))
    assert len(plain) - dead > 100
