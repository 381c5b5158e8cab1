"""One forward + backward of a (mixed) config's model on a synthetic batch
made by the config's own target pipeline: geometry, codec and packing, no
data files."""
from typing import Dict

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

from .rules import MixError, num_keypoints

TARGET_TRANSFORMS = ('GetBBoxCenterScale', 'TopdownAffine',
                     'BottomupRandomAffine', 'GenerateTarget',
                     'BottomupGetHeatmapMask', 'PackPoseInputs',
                     'PackAEInputs')


def synthetic_sample(cfg: Config, k: int, seed: int = 0) -> dict:
    """One image with one person: what the config's target transforms read
    from an annotation."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (320, 320, 3), dtype=np.uint8)
    x0, y0, w, h = 60.0, 40.0, 180.0, 240.0
    kpts = np.stack([rng.uniform(x0, x0 + w, k), rng.uniform(y0, y0 + h, k)],
                    -1)[None].astype(np.float32)
    return dict(
        img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2],
        img_id=0, id=0, img_path='synthetic.jpg',
        category_id=np.ones(1, np.int64),  # per instance, as datasets give
        bbox=np.array([[x0, y0, x0 + w, y0 + h]], np.float32),
        bbox_score=np.ones(1, np.float32), keypoints=kpts,
        keypoints_visible=np.ones((1, k), np.float32),
        dataset_keypoint_weights=np.ones(k, np.float32),
        num_keypoints=k, area=np.array([w * h], np.float32),
        iscrowd=np.zeros(1, np.int64), segmentation=None, invalid_segs=[],
        flip_indices=list(range(k)))


def train_step_check(cfg: Config, batch_size: int = 2) -> Dict[str, float]:
    """Build the model of ``cfg`` and run one forward + backward on a
    synthetic batch made by the config's own target pipeline (geometry,
    codec, packing); returns the losses."""
    init_default_scope('mmpose')
    k = num_keypoints(cfg)
    transforms = [dict(t) for t in cfg.train_dataloader.dataset.pipeline
                  if t['type'].split('.')[-1] in TARGET_TRANSFORMS]
    if not any(t['type'].split('.')[-1] == 'GenerateTarget'
               for t in transforms):  # what the user would train with too
        raise MixError('the training pipeline makes no targets (no '
                       'GenerateTarget): it cannot train')
    pipeline = Compose(transforms)
    samples = [pipeline(synthetic_sample(cfg, k, seed))
               for seed in range(batch_size)]
    model = MODELS.build(cfg.model)
    model.train()
    # what the runner sets before a step (batch resizes and one-stage heads
    # read the iteration / epoch from it)
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 0)
    hub.update_info('epoch', 0)
    # (RuntimeInfoHook sets these before training: DWPose decays by them)
    hub.update_info('max_iters', 1)
    hub.update_info('max_epochs', 1)
    data = model.data_preprocessor(pseudo_collate(samples), training=True)
    losses = model(**data, mode='loss')
    # summed as the runner sums them (a loss may be a vector: its mean)
    total, log_vars = model.parse_losses(losses)
    total.backward()
    if not torch.isfinite(total):
        raise MixError(f'non-finite loss {float(total)}')
    return {key: float(v) for key, v in log_vars.items() if key != 'loss'}
