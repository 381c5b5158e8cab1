"""Associative Embedding on the stacked hourglass: every stack predicts
heatmaps and tags, every stack is supervised (Newell et al., NeurIPS 2017)."""
from typing import Optional, Sequence, Tuple

import torch
from mmpose.models.heads import AssociativeEmbeddingHead
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, OptConfigType, OptSampleList,
                                 Predictions)
from torch import Tensor


@MODELS.register_module()
class StackedAEHead(AssociativeEmbeddingHead):
    """MMPose's ``AssociativeEmbeddingHead`` over the per-stack outputs of
    :class:`StackedHourglass` with ``num_keypoints=K * (1 + tag_dim)``: each
    stack's maps are K heatmaps followed by K*L tag maps (all re-injected
    into the next stack, as in the AE paper). ``loss`` applies MMPose's
    keypoint and tag losses to every stack; ``predict`` (flip and
    multi-scale test, decoding, heatmap restoring) is MMPose's, on the last
    stack.

    Args:
        num_stacks (int): Number of stacks N the backbone outputs.
        num_keypoints (int): Number of keypoints K.
        tag_dim (int): Tag dimension L per keypoint. Default: 1.
        tag_per_keypoint (bool): One tag map per keypoint (else L maps
            shared by all keypoints). Default: True.
        keypoint_loss (dict): Heatmap loss. Default: ``KeypointMSELoss``.
        tag_loss (dict): Grouping loss. Default:
            ``AssociativeEmbeddingLoss``.
        stack_weights (Sequence[float], optional): Weight of each stack's
            losses. Default: 1 for every stack.
        decoder (dict, optional): The ``AssociativeEmbedding`` codec.
        init_cfg (dict, optional): Unused (the head has no parameters).

    Shapes:
        feats: N tensors (B, K * (1 + L), H, W) (tag_per_keypoint) or
        (B, K + L, H, W).
        ``loss`` returns ``loss_kpt_stack{i}``, ``loss_pull_stack{i}`` and
        ``loss_push_stack{i}`` for every stack i.
    """

    def __init__(self,
                 num_stacks: int,
                 num_keypoints: int,
                 tag_dim: int = 1,
                 tag_per_keypoint: bool = True,
                 keypoint_loss: ConfigType = dict(type='KeypointMSELoss'),
                 tag_loss: ConfigType = dict(type='AssociativeEmbeddingLoss'),
                 stack_weights: Optional[Sequence[float]] = None,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None):
        channels = num_keypoints * (1 + tag_dim) if tag_per_keypoint \
            else num_keypoints + tag_dim
        super().__init__(
            in_channels=channels, num_keypoints=num_keypoints,
            tag_dim=tag_dim, tag_per_keypoint=tag_per_keypoint,
            deconv_out_channels=None, conv_out_channels=None,
            final_layer=None,  # the hourglass already predicts the maps
            keypoint_loss=keypoint_loss, tag_loss=tag_loss, decoder=decoder,
            init_cfg=init_cfg)
        self.num_stacks, self.channels = num_stacks, channels
        self.stack_weights = list(stack_weights or [1.0] * num_stacks)
        if len(self.stack_weights) != num_stacks:
            raise ValueError(
                f'StackedAEHead: stack_weights has {len(self.stack_weights)}'
                f' entries for {num_stacks} stacks')

    def _split(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f'StackedAEHead expects {self.channels} maps per stack '
                f'({self.num_keypoints} heatmaps + tags), got '
                f'{tuple(x.shape)}: set model.backbone.num_keypoints='
                f'{self.channels}')
        return x[:, :self.num_keypoints], x[:, self.num_keypoints:]

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """The last stack's (heatmaps, tags)."""
        if len(feats) != self.num_stacks:
            raise ValueError(f'StackedAEHead(num_stacks={self.num_stacks}) '
                             f'got {len(feats)} stacks: set '
                             f'model.backbone.num_stacks={self.num_stacks}')
        return self._split(feats[-1])

    def predict(self, feats, batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        if not (test_cfg.get('flip_test') or test_cfg.get('multiscale_test')):
            feats = list(feats)  # MMPose's head expects a list of tensors
        return super().predict(feats, batch_data_samples, test_cfg)

    def loss(self, feats: Sequence[Tensor], batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        gt_heatmaps = torch.stack(
            [d.gt_fields.heatmaps for d in batch_data_samples])
        gt_masks = torch.stack(
            [d.gt_fields.heatmap_mask for d in batch_data_samples])
        # the codec weighs each person's keypoints, (N_i, K) per image; the
        # heatmaps hold all people: a channel counts where anyone has it
        weights = torch.stack([
            d.gt_instance_labels.keypoint_weights.amax(0)
            if len(d.gt_instance_labels.keypoint_weights) else
            d.gt_fields.heatmaps.new_zeros(self.num_keypoints)
            for d in batch_data_samples])
        indices = [d.gt_instance_labels.keypoint_indices
                   for d in batch_data_samples]
        losses = {}
        for i, x in enumerate(feats):
            heatmaps, tags = self._split(x)
            if not self.tag_per_keypoint:
                tags = tags.repeat((1, self.num_keypoints, 1, 1))
            w = self.stack_weights[i]
            losses[f'loss_kpt_stack{i}'] = w * self.loss_module.keypoint_loss(
                heatmaps, gt_heatmaps, weights, gt_masks)
            pull, push = self.loss_module.tag_loss(tags, indices)
            losses[f'loss_pull_stack{i}'] = w * pull
            losses[f'loss_push_stack{i}'] = w * push
        return losses
