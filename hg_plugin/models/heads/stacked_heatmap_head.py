"""Head for the stacked hourglass: intermediate supervision + last-stack decode."""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.structures import PixelData
from mmpose.models.heads.base_head import BaseHead
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.typing import (ConfigType, Features, OptConfigType,
                                 OptSampleList, Predictions)
from torch import Tensor


def heatmap_targets(batch_data_samples: OptSampleList
                    ) -> Tuple[Tensor, Tensor]:
    """A batch's (B, K, H, W) target heatmaps and (B, K) keypoint weights,
    as MMPose's heatmap heads stack them."""
    gt_heatmaps = torch.stack(
        [d.gt_fields.heatmaps for d in batch_data_samples])
    keypoint_weights = torch.cat([
        d.gt_instance_labels.keypoint_weights for d in batch_data_samples])
    return gt_heatmaps, keypoint_weights


@MODELS.register_module()
class StackedHeatmapHead(BaseHead):
    """Heatmap head over the per-stack heatmaps of :class:`StackedHourglass`.

    The backbone already predicts every stack's heatmaps (they are re-injected
    between stacks), so ``forward`` only checks them; ``loss`` supervises every
    stack and ``predict`` decodes the last one.

    Args:
        num_stacks (int): Number of stacks N the backbone outputs.
        out_channels (int): Number of keypoints K.
        loss (dict): Config of the multi-stack loss. Default:
            ``MultiStackHeatmapLoss`` with ``KeypointMSELoss`` on every stack.
        decoder (dict, optional): Codec config (e.g. ``MSRAHeatmap``), needed
            by ``predict``.
        init_cfg (dict, optional): Unused (the head has no parameters).

    Shapes:
        feats: sequence of N tensors (B, K, H, W).
        ``loss`` returns ``loss_kpt_stack{i}`` for every stack i (weighted;
        their sum is the optimised loss) and ``acc_pose`` of the last stack.
        ``predict`` returns K keypoints per instance, and with
        ``test_cfg['output_heatmaps']`` also the last stack's (K, H, W)
        heatmaps.
    """

    def __init__(self,
                 num_stacks: int,
                 out_channels: int,
                 loss: ConfigType = dict(type='MultiStackHeatmapLoss'),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None):
        super().__init__(init_cfg)
        self.num_stacks, self.out_channels = num_stacks, out_channels
        loss = dict(loss)
        if loss.get('type') == 'MultiStackHeatmapLoss':
            loss.setdefault('num_stacks', num_stacks)
        self.loss_module = MODELS.build(loss)
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder else None

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Check and pass through N per-stack heatmaps (B, K, H, W)."""
        if feats[-1].dim() != 4 or feats[-1].shape[1] != self.out_channels:
            shapes = ', '.join(str(tuple(f.shape)) for f in feats)
            raise ValueError(
                f'StackedHeatmapHead(out_channels={self.out_channels}) '
                f'received {shapes}, not one (B, {self.out_channels}, H, W) '
                'heatmap tensor per stack: it needs StackedHourglass('
                "out_type='heatmaps') with num_keypoints equal to model.head."
                'out_channels (the dataset keypoint count) and no neck '
                'between them (model.neck=None).')
        if len(feats) != self.num_stacks:
            raise ValueError(
                f'StackedHeatmapHead(num_stacks={self.num_stacks}) received '
                f'{len(feats)} stacks: set model.head.num_stacks equal to '
                f'model.backbone.num_stacks.')
        return tuple(feats)

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        """Decode the last stack (``test_cfg['stack']``: another one, e.g.
        0 for the first, to measure each stack's accuracy); with
        ``flip_test`` average it with the flipped (and, with
        ``shift_heatmap``, 1-pixel shifted) prediction."""
        stack = test_cfg.get('stack', -1)
        if test_cfg.get('flip_test', False):
            assert isinstance(feats, list) and len(feats) == 2
            flip_indices = batch_data_samples[0].metainfo['flip_indices']
            heatmaps = self.forward(feats[0])[stack]
            heatmaps_flip = flip_heatmaps(
                self.forward(feats[1])[stack],
                flip_mode=test_cfg.get('flip_mode', 'heatmap'),
                flip_indices=flip_indices,
                shift_heatmap=test_cfg.get('shift_heatmap', False))
            heatmaps = (heatmaps + heatmaps_flip) * 0.5
        else:
            heatmaps = self.forward(feats)[stack]

        heatmaps = heatmaps.float()  # under bf16 autocast; numpy needs fp32
        preds = self.decode(heatmaps)
        if test_cfg.get('output_heatmaps', False):
            return preds, [PixelData(heatmaps=h) for h in heatmaps.detach()]
        return preds

    def loss(self,
             feats: Sequence[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """Per-stack losses (each logged) and last-stack ``acc_pose``."""
        return self.loss_from_targets(feats, *self.targets(
            batch_data_samples), train_cfg=train_cfg)

    def loss_from_targets(self, feats: Sequence[Tensor], gt_heatmaps: Tensor,
                          keypoint_weights: Tensor,
                          train_cfg: ConfigType = {}) -> dict:
        """:meth:`loss` on the stacked targets of :meth:`targets`: tensors
        only, nothing that reads the host (a captured training step,
        :class:`~hg_plugin.engine.CapturedTrainStep`, replays it)."""
        stacks = self.forward(feats)
        self.check_target_size(gt_heatmaps, stacks[-1])
        per_stack = self.loss_module(stacks, gt_heatmaps, keypoint_weights)
        losses = {f'loss_kpt_stack{i}': l for i, l in enumerate(per_stack)}
        if train_cfg.get('compute_acc', True):
            losses['acc_pose'] = self.accuracy(stacks[-1], gt_heatmaps,
                                               keypoint_weights)
        return losses

    def targets(self, batch_data_samples: OptSampleList,
                heatmaps: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Ground truth (B, K, H, W) heatmaps and (B, K) keypoint weights,
        checked against the size of the predicted ``heatmaps`` if given."""
        gt_heatmaps, keypoint_weights = heatmap_targets(batch_data_samples)
        if heatmaps is not None:
            self.check_target_size(gt_heatmaps, heatmaps)
        return gt_heatmaps, keypoint_weights

    @staticmethod
    def check_target_size(gt_heatmaps: Tensor, heatmaps: Tensor) -> None:
        if gt_heatmaps.shape[-2:] != heatmaps.shape[-2:]:
            raise ValueError(
                f'Target heatmaps are {tuple(gt_heatmaps.shape[-2:])} (codec '
                f'heatmap_size) but the network outputs '
                f'{tuple(heatmaps.shape[-2:])}: set codec heatmap_size to '
                f'input_size / 4.')

    @staticmethod
    def accuracy(heatmaps: Tensor, gt_heatmaps: Tensor,
                 keypoint_weights: Tensor, thr: float = 0.05) -> Tensor:
        """MMPose's ``acc_pose`` (``pose_pck_accuracy``: PCK at ``thr`` of
        the heatmap argmax, its quirks included - x normalised by the
        height, y by the width; a non-positive maximum decodes to (-1, -1);
        the mean over keypoints with a labelled instance), computed on the
        heatmaps' device: no copy to the host, so a training step does not
        wait for the device (a CUDA graph can hold it)."""
        n, k, h, w = heatmaps.shape

        def argmax_xy(maps: Tensor) -> Tensor:
            vals, idx = maps.float().reshape(n, k, -1).max(-1)
            xy = torch.stack((idx % w, idx // w), -1).float()
            return torch.where((vals > 0)[..., None], xy, -1.0)

        norm = torch.tensor([h, w], dtype=torch.float32,
                            device=heatmaps.device)
        dist = ((argmax_xy(heatmaps) - argmax_xy(gt_heatmaps)) / norm).norm(
            dim=-1)
        labelled = keypoint_weights.reshape(n, k) > 0
        hits = ((dist < thr) & labelled).sum(0).float()
        counted = labelled.sum(0)
        per_keypoint = hits / counted.clamp(min=1)
        has = (counted > 0).float()
        return (per_keypoint * has).sum() / has.sum().clamp(min=1)
