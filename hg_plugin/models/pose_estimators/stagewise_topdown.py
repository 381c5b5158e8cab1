"""Stage-wise backward for the stacked hourglass: each stack's loss is
back-propagated as soon as that stack is done. Three readings, selected by
``mode`` (what each computes, not when):

- ``'kept'`` - *per-stack backward, graph kept*: every backward retains the
  graph, so the gradients are exactly one backward's of the summed losses
  (linearity). The same training as the plain model, with no memory saved
  and more backward work: a control, not a method.
- ``'apart'`` - *stacks trained apart*: the next stack is built on *detached*
  tensors, so stack ``i``'s loss trains stack ``i``, the re-injection convs
  before it and (for stack 0) the stem, but no earlier stack. One stack's
  activations are alive at a time. A different objective from the paper's.
- ``'immediate'`` - *immediate update*: as ``'apart'``, and each stack's
  parameters are stepped by the optimizer as soon as its own loss is
  back-propagated; the next stack then runs on the already updated earlier
  stacks (their forward is recomputed without a graph, once per stack).
  With the stacks apart every parameter gets its gradient from exactly one
  loss, so stepping it early changes nothing by itself; what differs from
  ``'apart'`` is that later stacks see this iteration's update.
"""
import torch
import torch.distributed as dist
from mmengine.optim import OptimWrapper
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS

from ..backbones import StackedHourglass
from ..backbones.stacked_hourglass import bn_stats_kept
from ..heads import StackedHeatmapHead

MODES = ('kept', 'apart', 'immediate')


def _backward_now(optim_wrapper: OptimWrapper, loss: torch.Tensor,
                  retain_graph: bool = False) -> None:
    """What ``optim_wrapper.backward`` does (accumulation and AMP loss
    scaling), without counting an extra iteration."""
    loss = optim_wrapper.scale_loss(loss)
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    (scaler.scale(loss) if scaler is not None else loss).backward(
        retain_graph=retain_graph)


@MODELS.register_module()
class StagewiseTopdownPoseEstimator(TopdownPoseEstimator):
    """``TopdownPoseEstimator`` whose ``train_step`` backpropagates stack by
    stack. Needs a :class:`StackedHourglass` backbone (``out_type=
    'heatmaps'``), no neck, and a :class:`StackedHeatmapHead`; single process
    only (DDP expects one backward per forward). Inference is unchanged.
    Select it with ``model.type='StagewiseTopdownPoseEstimator'`` or
    ``tools/train.py --stagewise-backward``.

    Args:
        mode (str): ``'apart'`` (stacks trained apart: the next stack's
            inputs are detached, which frees each stack's activations),
            ``'kept'`` (graph kept: the paper's gradients, computed stack by
            stack) or ``'immediate'`` (apart, and each stack's parameters
            stepped as soon as its loss is back-propagated). See the module
            docstring. Default: 'apart'.
        detach_reinjection (bool, optional): The earlier spelling: ``True``
            is ``mode='apart'``, ``False`` is ``mode='kept'``.
        **kwargs: ``TopdownPoseEstimator``'s arguments.
    """

    def __init__(self, mode: str = 'apart', detach_reinjection=None,
                 **kwargs):
        super().__init__(**kwargs)
        if detach_reinjection is not None:
            mode = 'apart' if detach_reinjection else 'kept'
        if mode not in MODES:
            raise ValueError('StagewiseTopdownPoseEstimator: `mode` must be '
                             f'one of {", ".join(MODES)}, got {mode!r}')
        self.mode = mode
        if not (isinstance(self.backbone, StackedHourglass)
                and self.backbone.out_type == 'heatmaps' and not self.with_neck
                and isinstance(self.head, StackedHeatmapHead)):
            raise ValueError(
                'StagewiseTopdownPoseEstimator needs a StackedHourglass '
                "backbone with out_type='heatmaps', no neck and a "
                'StackedHeatmapHead: use model.type=TopdownPoseEstimator for '
                'this model.')

    def loss(self, inputs, data_samples):
        if dist.is_available() and dist.is_initialized() and \
                dist.get_world_size() > 1:
            raise RuntimeError(
                'Stage-wise backward runs in a single process (the DDP wrapper '
                'calls loss() and would silently train the plain model): train '
                'without a launcher, or drop --stagewise-backward.')
        return super().loss(inputs, data_samples)

    def _recomputed(self, optim_wrapper, fn, *args):
        """``fn(*args)`` on the weights just stepped: no graph, and BN
        running statistics not updated a second time."""
        with torch.no_grad(), optim_wrapper.optim_context(self), \
                bn_stats_kept(self.backbone):
            return fn(*args)

    def train_step(self, data, optim_wrapper: OptimWrapper):
        backbone, head = self.backbone, self.head
        n = backbone.num_stacks
        kept, immediate = self.mode == 'kept', self.mode == 'immediate'
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            samples, images = data['data_samples'], data['inputs']
            x = backbone.stem(images)
        losses, gt, weights = {}, None, None
        updated = None  # (immediate) stack i's input, features, heatmaps
        for i in range(n):
            with optim_wrapper.optim_context(self):
                features, heatmaps = backbone.stack(i, x)
                if gt is None:
                    gt, weights = head.targets(samples, heatmaps)
                loss = head.loss_module.stack_loss(i, heatmaps, gt, weights)
            losses[f'loss_kpt_stack{i}'] = loss.detach()
            if i == n - 1:  # the last backward counts the iteration, steps
                optim_wrapper.update_params(loss)
                break
            if not immediate:
                with optim_wrapper.optim_context(self):
                    cut = (lambda t: t) if kept else (lambda t: t.detach())
                    # built before the backward frees this stack's graph
                    x = backbone.merge(i, cut(x), cut(features),
                                       cut(heatmaps))
                _backward_now(optim_wrapper, loss, retain_graph=kept)
                continue
            _backward_now(optim_wrapper, loss)
            optim_wrapper.step()  # this stack (and the stem / merge before)
            optim_wrapper.zero_grad()
            # stack i's input and outputs again, on the updated weights
            again = self._recomputed
            x_new = again(optim_wrapper, backbone.stem, images) if i == 0 \
                else again(optim_wrapper, backbone.merge, i - 1, *updated)
            updated = (x_new, *again(optim_wrapper, backbone.stack, i, x_new))
            with optim_wrapper.optim_context(self):  # merge i: loss i + 1
                x = backbone.merge(i, *updated)
        if self.train_cfg.get('compute_acc', True):
            losses['acc_pose'] = head.accuracy(heatmaps.detach(), gt, weights)
        _, log_vars = self.parse_losses(losses)
        return log_vars
