"""Intermediate supervision: one heatmap loss per hourglass stack."""
from typing import Optional, Sequence

import torch
from mmpose.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class MultiStackHeatmapLoss(nn.Module):
    """Apply a per-stack heatmap loss to every stack's prediction.

    The same ground-truth heatmaps supervise every stack (Newell et al.,
    Sec. 3.4); stack ``i``'s loss is scaled by ``stack_weights[i]``.

    Args:
        num_stacks (int): Number of stacks N.
        loss (dict): Config of the per-stack base loss, any MMPose heatmap
            loss, e.g. ``KeypointMSELoss`` (default) or ``KeypointOHKMMSELoss``.
        stack_weights (Sequence[float], optional): N per-stack weights.
            Default: all 1.0, as in the paper.

    Shapes:
        preds: sequence of N tensors (B, K, H, W); target: (B, K, H, W);
        target_weights: (B, K). Returns a tensor (N,) of weighted per-stack
        losses (their sum is the total loss).
    """

    def __init__(self,
                 num_stacks: int,
                 loss: dict = dict(type='KeypointMSELoss',
                                   use_target_weight=True),
                 stack_weights: Optional[Sequence[float]] = None):
        super().__init__()
        if stack_weights is None:
            stack_weights = [1.0] * num_stacks
        if len(stack_weights) != num_stacks:
            raise ValueError(
                f'MultiStackHeatmapLoss: `stack_weights` has '
                f'{len(stack_weights)} entries but there are {num_stacks} '
                f'stacks: give one weight per stack (model.head.loss.'
                f'stack_weights).')
        self.num_stacks = num_stacks
        self.base_loss = MODELS.build(loss)
        self.register_buffer(
            'stack_weights', torch.tensor(stack_weights, dtype=torch.float32),
            persistent=False)

    def forward(self, preds: Sequence[Tensor], target: Tensor,
                target_weights: Optional[Tensor] = None) -> Tensor:
        if len(preds) != self.num_stacks:
            raise ValueError(
                f'MultiStackHeatmapLoss: got {len(preds)} stacks of heatmaps, '
                f'configured for {self.num_stacks}.')
        losses = torch.stack([
            self.stack_loss(i, p, target, target_weights)
            for i, p in enumerate(preds)
        ])
        return losses

    def stack_loss(self, i: int, pred: Tensor, target: Tensor,
                   target_weights: Optional[Tensor] = None) -> Tensor:
        """Weighted loss of stack ``i`` alone (a scalar)."""
        loss = self.base_loss(pred, target, target_weights)
        return loss * self.stack_weights[i].to(loss.dtype)
