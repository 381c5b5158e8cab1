"""A training step captured once as a CUDA graph and replayed (Speed III).

One hg8 step is ~4900 kernels; launched one by one from Python, the GPU
waits on the host between them. :class:`CapturedTrainStep` records forward,
loss, backward and optimizer step of a top-down heatmap model once at a
static batch shape and replays the recording each iteration: one launch a
step, no host sync inside it. It computes what MMEngine's ``train_step``
computes (``tests/engine/test_captured_train_step.py``: losses and weights
after k steps equal MMEngine's on the CPU, where the same step code runs
eagerly; on CUDA the captured step equals its own eager run):

- the batch goes through the model's data preprocessor and is stacked into
  target heatmaps and keypoint weights eagerly, is copied into static
  buffers, and the graph runs ``extract_feat`` -> the head's loss
  (:func:`loss_from_targets`: ``StackedHeatmapHead`` or MMPose's
  ``HeatmapHead``, e.g. the zoo's HG52) -> ``parse_losses`` -> ``backward``
  -> ``optimizer.step``;
- mixed precision is autocast without a loss scaler: bf16 (or none). fp16
  needs the scaler, whose overflow check reads the device each step, so it
  is refused;
- the optimizer must be capturable (RMSprop, Adam, AdamW, ...: its state
  stays on the device); its learning rate becomes a device tensor during
  capture, which each replay refills from the param group, so MMEngine's lr
  schedulers work as before. Another hyper-parameter changed after capture
  (a momentum scheduler) stops with one line;
- a batch of another shape (a last partial batch) runs eagerly, said once in
  the log;
- before capture, ``warmup`` steps run eagerly on a side stream (cuDNN and
  autograd allocate their workspaces there), as torch's whole-network
  capture recipe does.

Selected by the config key
``custom_hooks=[dict(type='CapturedTrainStepHook')]`` (MMPose's own
``tools/train.py`` runs it) or ``--captured-step`` of ours.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.model import BaseModel, is_model_wrapper
from mmpose.registry import HOOKS
from torch import Tensor

from ..models.heads import StackedHeatmapHead, heatmap_targets


class CapturedStepError(ValueError):
    """A model or optimizer setting the captured step cannot run."""


def check_capturable(model, optim_wrapper) -> Optional[torch.dtype]:
    """Raise :class:`CapturedStepError` (one line naming the config key) for
    what a captured step cannot run; return the autocast dtype (None: fp32)."""
    if is_model_wrapper(model):
        raise CapturedStepError(
            'CapturedTrainStepHook: a distributed (wrapped) model is not '
            'supported: train on one GPU or remove the hook from '
            'custom_hooks')
    head = getattr(model, 'head', None)
    if type(model).train_step is not BaseModel.train_step or not (
            hasattr(head, 'loss_from_targets')
            or type(head).__name__ == 'HeatmapHead'):
        raise CapturedStepError(
            f'CapturedTrainStepHook: {type(model).__name__} with '
            f'{type(head).__name__} cannot be captured: it needs a model '
            'that trains with MMEngine\'s train_step and a heatmap head '
            '(StackedHeatmapHead, MMPose\'s HeatmapHead); remove the hook '
            'from custom_hooks')
    counts = getattr(optim_wrapper, '_accumulative_counts', 1)
    if counts != 1 or getattr(optim_wrapper, 'clip_grad_kwargs', None):
        raise CapturedStepError(
            'CapturedTrainStepHook: optim_wrapper.accumulative_counts and '
            'optim_wrapper.clip_grad are not supported by the captured step:'
            ' remove them or the hook')
    dtype = getattr(optim_wrapper, 'cast_dtype', None)
    if hasattr(optim_wrapper, 'loss_scaler') and dtype is None:
        dtype = torch.float16  # AmpOptimWrapper's default
    if dtype in (torch.float16, 'float16'):
        raise CapturedStepError(
            'CapturedTrainStepHook: fp16 needs a loss scaler, whose overflow '
            'check waits for the device every step: set '
            "optim_wrapper.dtype='bfloat16' (or train in fp32)")
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    return dtype


class CapturedTrainStep:
    """``model.train_step`` replacement: see the module docstring.

    Args:
        model: a top-down pose estimator (``TopdownPoseEstimator``) whose
            head has ``targets`` and ``loss_from_targets``.
        optim_wrapper: MMEngine's ``OptimWrapper`` or ``AmpOptimWrapper``
            (bf16) around a capturable optimizer.
        warmup (int): eager steps before the capture. Default: 3.
        capture (str | bool): ``'auto'`` captures on CUDA and runs the same
            step code eagerly elsewhere; ``False`` never captures.
    """

    def __init__(self, model, optim_wrapper, warmup: int = 3,
                 capture='auto'):
        self.dtype = check_capturable(model, optim_wrapper)
        self.model, self.optimizer = model, optim_wrapper.optimizer
        self.device = next(model.parameters()).device
        self.capture = (self.device.type == 'cuda' if capture == 'auto'
                        else bool(capture))
        if self.capture and self.device.type != 'cuda':
            raise CapturedStepError(
                'CapturedTrainStepHook(capture=True) needs a CUDA device; '
                f'the model is on {self.device}')
        if self.capture:
            make_capturable(self.optimizer)
        self.warmup = warmup
        self.calls = 0
        self.graph = None
        self.static: List[Tensor] = []
        self.outputs: Dict[str, Tensor] = {}
        self.lr_tensors: List[Tensor] = []
        self.fixed: List[Dict] = []
        self.said_eager = False

    # the step itself: the same code eagerly and under capture
    def tensors(self, data) -> List[Tensor]:
        """The batch as the tensors the step reads: preprocessed inputs,
        target heatmaps, keypoint weights."""
        data = self.model.data_preprocessor(data, True)
        return [data['inputs'],
                *heatmap_targets(data['data_samples'])]

    def step(self, inputs: Tensor, *targets: Tensor) -> Dict[str, Tensor]:
        """Forward, loss, backward, optimizer step; returns the log vars."""
        with torch.autocast(self.device.type, dtype=self.dtype or
                            torch.float32, enabled=self.dtype is not None,
                            cache_enabled=False):  # (needed under capture)
            feats = self.model.extract_feat(inputs)
            losses = loss_from_targets(self.model.head, feats, *targets,
                                       train_cfg=self.model.train_cfg)
        loss, log_vars = self.model.parse_losses(losses)
        loss.backward()
        self.optimizer.step()
        return log_vars

    def eager(self, tensors: Sequence[Tensor]) -> Dict[str, Tensor]:
        out = self.step(*tensors)
        self.optimizer.zero_grad(set_to_none=True)
        return {k: v.detach() for k, v in out.items()}

    def __call__(self, data, optim_wrapper=None) -> Dict[str, Tensor]:
        tensors = self.tensors(data)
        self.calls += 1
        if not self.capture:
            return self.eager(tensors)
        if self.graph is None and self.calls <= self.warmup:
            return self._on_side_stream(tensors)
        if self.graph is None:
            self._capture(tensors)
        elif [(t.shape, t.dtype) for t in tensors] != [
                (t.shape, t.dtype) for t in self.static]:
            if not self.said_eager:
                MMLogger.get_current_instance().info(
                    'CapturedTrainStep: a batch of shape '
                    f'{tuple(tensors[0].shape)} (captured: '
                    f'{tuple(self.static[0].shape)}) runs eagerly; set '
                    'train_dataloader.drop_last=True to avoid it')
                self.said_eager = True
            return self.eager(tensors)
        else:
            for static, t in zip(self.static, tensors):
                static.copy_(t)
        self._replay()
        return {k: v.detach().clone() for k, v in self.outputs.items()}

    # CUDA only
    def _on_side_stream(self, tensors) -> Dict[str, Tensor]:
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            out = self.eager(tensors)
        torch.cuda.current_stream().wait_stream(stream)
        return out

    def _capture(self, tensors) -> None:
        groups = self.optimizer.param_groups
        self.static = [t.clone() for t in tensors]
        self.lr_tensors = [torch.tensor(float(g['lr']), device=self.device)
                           for g in groups]
        lrs = [g['lr'] for g in groups]
        self.fixed = [hyper_parameters(g) for g in groups]
        self.optimizer.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        try:
            for g, t in zip(groups, self.lr_tensors):
                g['lr'] = t  # the graph reads the lr from this tensor
            with torch.cuda.graph(self.graph):
                self.outputs = self.step(*self.static)
        finally:
            for g, lr in zip(groups, lrs):
                g['lr'] = lr  # schedulers keep writing floats
        MMLogger.get_current_instance().info(
            f'CapturedTrainStep: training step captured at batch shape '
            f'{tuple(self.static[0].shape)} after {self.warmup} eager steps')

    def _replay(self) -> None:
        groups = self.optimizer.param_groups
        for i, (g, t) in enumerate(zip(groups, self.lr_tensors)):
            if hyper_parameters(g) != self.fixed[i]:
                changed = [k for k in self.fixed[i]
                           if g.get(k) != self.fixed[i][k]]
                raise CapturedStepError(
                    f'CapturedTrainStep: optimizer param_groups[{i}] '
                    f'{changed} changed after the step was captured (a '
                    'scheduler other than lr?): the captured step follows '
                    'lr only; remove that scheduler or CapturedTrainStepHook')
            t.fill_(g['lr'])  # (a kernel argument, no sync)
        self.graph.replay()


def loss_from_targets(head, feats, gt_heatmaps: Tensor,
                      keypoint_weights: Tensor, train_cfg) -> Dict:
    """The head's training losses from stacked targets, tensors only: ours
    (``StackedHeatmapHead.loss_from_targets``) or MMPose's ``HeatmapHead``
    (its ``loss``: the same ``loss_kpt``, and ``acc_pose`` computed on the
    device - MMPose's ``pose_pck_accuracy`` exactly, which copies the
    heatmaps to the host)."""
    if hasattr(head, 'loss_from_targets'):
        return head.loss_from_targets(feats, gt_heatmaps, keypoint_weights,
                                      train_cfg=train_cfg)
    heatmaps = head.forward(feats)
    losses = dict(loss_kpt=head.loss_module(heatmaps, gt_heatmaps,
                                            keypoint_weights))
    if train_cfg.get('compute_acc', True):
        losses['acc_pose'] = StackedHeatmapHead.accuracy(
            heatmaps, gt_heatmaps, keypoint_weights)
    return losses


def hyper_parameters(group: Dict) -> Dict:
    """A param group's settings other than its params and lr."""
    return {k: v for k, v in group.items()
            if k not in ('params', 'lr', 'initial_lr')}


def make_capturable(optimizer) -> None:
    """Switch ``optimizer`` to its capturable implementation (state on the
    device; RMSprop, Adam, AdamW, ... have it), moving existing step counts
    (after a resume) to their parameters' device."""
    if 'capturable' not in optimizer.defaults:
        raise CapturedStepError(
            f'CapturedTrainStepHook: {type(optimizer).__name__} has no '
            'capturable implementation: use RMSprop, Adam or AdamW in '
            'optim_wrapper.optimizer, or remove the hook')
    for group in optimizer.param_groups:
        group['capturable'] = True
        for p in group['params']:
            state = optimizer.state.get(p, {})
            if torch.is_tensor(state.get('step')):
                state['step'] = state['step'].to(p.device, torch.float32)


@HOOKS.register_module()
class CapturedTrainStepHook(Hook):
    """Train with :class:`CapturedTrainStep` (``runner.model.train_step``
    replaced before the first iteration, after any resume).

    Args:
        warmup (int): eager steps before the capture. Default: 3.
        capture (str | bool): ``'auto'``: capture on CUDA, the same step
            code eagerly elsewhere. Default: 'auto'.
    """

    priority = 'LOW'

    def __init__(self, warmup: int = 3, capture='auto'):
        self.warmup, self.capture = warmup, capture

    def before_train(self, runner) -> None:
        step = CapturedTrainStep(runner.model, runner.optim_wrapper,
                                 self.warmup, self.capture)
        runner.model.train_step = step
        how = ('the training step is captured as a CUDA graph'
               if step.capture else 'the step runs eagerly (no CUDA)')
        runner.logger.info(f'CapturedTrainStepHook: {how}')
