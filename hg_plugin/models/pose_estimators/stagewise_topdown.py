"""EXPERIMENTAL stage-wise backward for the stacked hourglass.

Each stack's loss is backpropagated as soon as that stack is done, which
frees its activations; the next stack is built on *detached* tensors
(``x``, features and heatmaps enter the re-injection convs detached), so one
stack's activations are alive at a time. The gradients are those of the sum
of the per-stack losses with the stacks cut apart: stack ``i``'s loss trains
stack ``i``, the re-injection convs before it and (for stack 0) the stem, but
no earlier stack. It is a different objective from the paper's, hence
experimental: ``tools/compare_training.py`` shows its loss curves.
"""
import torch
import torch.distributed as dist
from mmengine.optim import OptimWrapper
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS

from ..backbones import StackedHourglass
from ..heads import StackedHeatmapHead


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
        detach_reinjection (bool): Cut the stacks apart (the default, which
            frees each stack's activations). ``False`` keeps the gradient
            through the re-injection (each backward retains the graph):
            the paper's gradients, only computed stack by stack - the
            control for the cut, with no memory saved.
        **kwargs: ``TopdownPoseEstimator``'s arguments.
    """

    def __init__(self, detach_reinjection: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.detach_reinjection = detach_reinjection
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

    def train_step(self, data, optim_wrapper: OptimWrapper):
        backbone, head = self.backbone, self.head
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            samples = data['data_samples']
            x = backbone.stem(data['inputs'])
        losses, gt, weights = {}, None, None
        for i in range(backbone.num_stacks):
            with optim_wrapper.optim_context(self):
                features, heatmaps = backbone.stack(i, x)
                if gt is None:
                    gt, weights = head.targets(samples, heatmaps)
                loss = head.loss_module.stack_loss(i, heatmaps, gt, weights)
                if i < backbone.num_stacks - 1:  # built before x is freed
                    cut = (lambda t: t.detach()) if self.detach_reinjection \
                        else (lambda t: t)
                    x = backbone.merge(i, cut(x), cut(features),
                                       cut(heatmaps))
            losses[f'loss_kpt_stack{i}'] = loss.detach()
            if i < backbone.num_stacks - 1:
                _backward_now(optim_wrapper, loss,
                              retain_graph=not self.detach_reinjection)
            else:  # the last backward counts the iteration and steps
                optim_wrapper.update_params(loss)
        if self.train_cfg.get('compute_acc', True):
            losses['acc_pose'] = head.accuracy(heatmaps.detach(), gt, weights)
        _, log_vars = self.parse_losses(losses)
        return log_vars
