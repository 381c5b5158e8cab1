"""CapturedTrainStep computes what MMEngine's train_step computes: on the
CPU the same step code runs eagerly (losses and weights after k steps equal
MMEngine's); on CUDA the captured replay equals the eager run (skipped
without a GPU; benchmarks/device/run.sh runs it on a lent one)."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

import hg_plugin  # noqa: F401
from hg_plugin import config_path
from hg_plugin.engine import (CapturedStepError, CapturedTrainStep,
                              DeviceAmpOptimWrapper)
from hg_plugin.engine.captured_train_step import make_capturable
from tests.conftest import mpii_cfg_options

K, S = 4, 64  # keypoints; input side (heatmaps S/4)


def estimator(device='cpu', type='TopdownPoseEstimator', **backbone):
    init_default_scope('mmpose')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type=type, data_preprocessor=dict(type='PoseDataPreprocessor'),
        backbone=dict(type='StackedHourglass', num_stacks=2, num_keypoints=K,
                      feat_channels=16, depth=2, **backbone),
        head=dict(type='StackedHeatmapHead', num_stacks=2, out_channels=K,
                  loss=dict(type='MultiStackHeatmapLoss',
                            stack_weights=[0.5, 1.0])))).to(device)


def batches(n, b=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        samples = []
        for _ in range(b):
            s = PoseDataSample(metainfo=dict(flip_indices=[1, 0, 3, 2]))
            s.gt_fields = PixelData(heatmaps=torch.rand(
                K, S // 4, S // 4, generator=g))
            s.gt_instance_labels = InstanceData(
                keypoint_weights=(torch.rand(1, K, generator=g) > 0.2)
                .float())
            samples.append(s)
        out.append(dict(inputs=[torch.randint(0, 256, (3, S, S),
                                              dtype=torch.uint8, generator=g)
                                for _ in range(b)], data_samples=samples))
    return out


def rmsprop(model, **kw):
    return torch.optim.RMSprop(model.parameters(), lr=2.5e-3, **kw)


def train(step, model, wrapper, data, lrs):
    """k steps with an lr that changes each step, as a scheduler does."""
    logs = []
    for lr, d in zip(lrs, data):
        for g in wrapper.optimizer.param_groups:
            g['lr'] = lr
        logs.append({k: v.float().item()
                     for k, v in step(copy.deepcopy(d), wrapper).items()})
    return logs, {k: v.detach().float().clone()
                  for k, v in model.state_dict().items()}


LRS = (2.5e-3, 2e-3, 1e-3, 5e-4)


@pytest.mark.parametrize('amp', [None, 'bfloat16'])
def test_the_step_code_equals_mmengines_train_step(amp):
    """Eagerly (the CPU): the same log vars every step and the same weights,
    BN statistics and optimizer state after 4 steps as MMEngine's
    train_step with the optim wrapper - fp32 and bf16 autocast."""
    data = batches(len(LRS))
    wrap = (lambda opt: DeviceAmpOptimWrapper(optimizer=opt, dtype=amp)) \
        if amp else (lambda opt: OptimWrapper(opt))
    ref = estimator()
    ref_wrapper = wrap(rmsprop(ref))
    ref_logs, ref_state = train(ref.train_step, ref, ref_wrapper, data, LRS)
    ours = estimator()
    wrapper = wrap(rmsprop(ours))
    step = CapturedTrainStep(ours, wrapper)
    assert not step.capture  # no CUDA here: the eager path
    logs, state = train(step, ours, wrapper, data, LRS)
    assert list(logs[0]) == list(ref_logs[0]) == [
        'loss', 'loss_kpt_stack0', 'loss_kpt_stack1', 'acc_pose']
    for a, b in zip(logs, ref_logs):
        for k in a:
            assert a[k] == pytest.approx(b[k], rel=1e-6, abs=1e-7), k
    assert ref_logs[-1]['loss'] != pytest.approx(ref_logs[0]['loss'])
    for k in ref_state:
        torch.testing.assert_close(state[k], ref_state[k], rtol=1e-6,
                                   atol=1e-7, msg=k)
    changed = [k for k in ref_state if not torch.equal(
        ref_state[k], estimator().state_dict()[k].float())]
    assert len(changed) > 0.9 * len(ref_state)  # the steps trained
    for p, q in zip(ref_wrapper.optimizer.param_groups[0]['params'],
                    wrapper.optimizer.param_groups[0]['params']):
        torch.testing.assert_close(
            wrapper.optimizer.state[q]['square_avg'],
            ref_wrapper.optimizer.state[p]['square_avg'])


def test_what_it_cannot_capture_is_one_line():
    model = estimator()
    fp16 = OptimWrapper(rmsprop(model))
    fp16.loss_scaler, fp16.cast_dtype = object(), torch.float16
    with pytest.raises(CapturedStepError, match="optim_wrapper.dtype="
                       "'bfloat16'"):
        CapturedTrainStep(model, fp16)
    with pytest.raises(CapturedStepError, match='clip_grad'):
        CapturedTrainStep(model, OptimWrapper(rmsprop(model),
                                              clip_grad=dict(max_norm=1.0)))
    with pytest.raises(CapturedStepError, match='accumulative_counts'):
        CapturedTrainStep(model, OptimWrapper(rmsprop(model),
                                              accumulative_counts=2))
    stagewise = estimator(type='StagewiseTopdownPoseEstimator')
    with pytest.raises(CapturedStepError, match='StagewiseTopdown'):
        CapturedTrainStep(stagewise, OptimWrapper(rmsprop(stagewise)))
    with pytest.raises(CapturedStepError, match='SGD has no capturable'):
        make_capturable(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(CapturedStepError, match='needs a CUDA device'):
        CapturedTrainStep(model, OptimWrapper(rmsprop(model)), capture=True)
    opt = rmsprop(model)
    model.train_step(batches(1)[0], OptimWrapper(opt))  # state exists
    make_capturable(opt)  # (after a resume: the step counts on the device)
    assert all(g['capturable'] for g in opt.param_groups)


def test_the_hook_trains_like_mmengine_through_the_runner(mpii_root,
                                                          tmp_path):
    """configs/hg1_mpii_256.py for 3 iterations through MMEngine's runner,
    with and without custom_hooks=[CapturedTrainStepHook]: the same
    weights (the hook's step replaced the model's train_step)."""
    def run(name, hooks):
        cfg = Config.fromfile(config_path('hg1_mpii_256'))
        cfg.merge_from_dict(mpii_cfg_options(mpii_root))
        cfg.merge_from_dict(dict(
            work_dir=str(tmp_path / name),
            randomness=dict(seed=0),
            train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                           max_iters=3, val_interval=100),
            train_dataloader=dict(batch_size=2, num_workers=0,
                                  persistent_workers=False),
            default_hooks=dict(checkpoint=None, logger=dict(interval=1)),
            model=dict(backbone=dict(feat_channels=16))))
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), *hooks]
        runner = Runner.from_cfg(cfg)
        runner.train()
        return runner
    ref = run('plain', [])
    ours = run('captured', [dict(type='CapturedTrainStepHook')])
    assert isinstance(ours.model.train_step, CapturedTrainStep)
    assert ours.model.train_step.calls == 3
    a, b = ref.model.state_dict(), ours.model.state_dict()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-5, atol=1e-6, msg=k)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('amp', [None, 'bfloat16'])
def test_the_captured_step_equals_its_eager_run_on_cuda(amp):
    """Captured after 2 warm-up steps, then replayed with a changing lr and
    new batches, and one batch of another size in between (run eagerly):
    losses and weights as the same steps run eagerly."""
    data = batches(6)
    data.insert(4, batches(1, b=2, seed=7)[0])  # a partial batch
    lrs = (2.5e-3, 2e-3, 1.5e-3, 1e-3, 8e-4, 5e-4, 2e-4)
    runs = []
    for capture in (False, True):
        model = estimator('cuda')
        wrapper = OptimWrapper(rmsprop(model, capturable=True))
        if amp:
            wrapper.cast_dtype = torch.bfloat16
        step = CapturedTrainStep(model, wrapper, warmup=2, capture=capture)
        runs.append(train(step, model, wrapper, data, lrs))
        assert (step.graph is not None) == capture
    (eager_logs, eager), (logs, captured) = runs
    tol = dict(rtol=2e-2, atol=1e-3) if amp else dict(rtol=1e-4, atol=1e-5)
    for a, b in zip(logs, eager_logs):
        assert a['loss'] == pytest.approx(b['loss'], rel=tol['rtol'])
    for k in eager:
        torch.testing.assert_close(captured[k], eager[k], **tol, msg=k)
