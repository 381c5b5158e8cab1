"""Per-stack outputs for one person box, shared by tools/infer.py (heatmap
panels) and tools/export_onnx.py (the exported graph and its parity input)."""
from typing import Tuple

import numpy as np
from mmengine.dataset import Compose, pseudo_collate
from mmpose.apis import init_model
from torch import Tensor

from ..checkpoints import check_checkpoint
from ..models.backbones import CheckpointMismatchError

__all__ = ['CheckpointMismatchError', 'init_checked_model', 'preprocess_box',
           'stack_heatmaps']


def preprocess_box(model, img: np.ndarray, box_xyxy) -> Tuple[Tensor, dict]:
    """One box of ``img`` through the config's test pipeline and the model's
    data preprocessor: the (1, 3, H, W) network input and the packed sample
    (its ``inputs`` is the uint8 crop)."""
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = pipeline(dict(img=img,
                         bbox=np.asarray(box_xyxy, np.float32)[None],
                         bbox_score=np.ones(1), **model.dataset_meta))
    return model.data_preprocessor(pseudo_collate([data]),
                                   False)['inputs'], data


def stack_heatmaps(head, feats) -> Tuple[Tensor, ...]:
    """``head.forward`` as a tuple of per-stack heatmaps: ours and CPMHead
    give one per stack, a single-output head such as HeatmapHead one."""
    out = head.forward(feats)
    return tuple(out) if isinstance(out, (list, tuple)) else (out, )


def init_checked_model(cfg, checkpoint=None, device: str = 'cpu'):
    """MMPose's ``init_model``, but a checkpoint that does not fit the
    config's model (missing, unexpected or reshaped weights: MMPose loads
    it anyway, non-strictly, and predicts from mostly random weights) is
    refused with :class:`CheckpointMismatchError`, naming the first
    mismatching keys and the shipped configs that would fit."""
    if checkpoint:
        problem = check_checkpoint(checkpoint, init_model(cfg, None, 'cpu'))
        if problem:
            raise CheckpointMismatchError(problem)
    return init_model(cfg, checkpoint, device=device)
