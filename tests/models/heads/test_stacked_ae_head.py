"""StackedAEHead: MMPose's AE losses on every stack, MMPose's AE decoding
on the last one."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.codecs import AssociativeEmbedding
from mmpose.structures import PoseDataSample

import hg_plugin  # noqa: F401
from mmpose.registry import MODELS

K, SIZE, HM = 17, 64, 16
CODEC = dict(type='AssociativeEmbedding', input_size=(SIZE, SIZE),
             heatmap_size=(HM, HM), sigma=1, decode_topk=5,
             decode_max_instances=5, decode_keypoint_order=list(range(K)))


def head(stacks=2):
    return MODELS.build(dict(
        type='StackedAEHead', num_stacks=stacks, num_keypoints=K,
        keypoint_loss=dict(type='KeypointMSELoss', use_target_weight=False),
        tag_loss=dict(type='AssociativeEmbeddingLoss', loss_weight=0.001),
        decoder=CODEC))


def people():
    """Two people's keypoints (input pixels), all visible."""
    rng = np.random.default_rng(0)
    a = rng.uniform(4, 28, (K, 2))
    b = rng.uniform(36, 60, (K, 2))
    return np.stack([a, b]).astype(np.float32)


def encoded_sample(kpts):
    enc = AssociativeEmbedding(**{k: v for k, v in CODEC.items()
                                 if k != 'type'}).encode(kpts, np.ones(
                                     kpts.shape[:2], np.float32))
    s = PoseDataSample(metainfo=dict(flip_indices=list(range(K)),
                                     img_shape=(SIZE, SIZE)))
    s.gt_fields = PixelData(heatmaps=torch.tensor(enc['heatmaps']),
                            heatmap_mask=torch.ones(K, HM, HM))
    s.gt_instance_labels = InstanceData(
        keypoint_weights=torch.tensor(enc['keypoint_weights']),
        keypoint_indices=torch.tensor(enc['keypoint_indices']))
    return s, enc


def perfect_maps(enc):
    """Heatmaps = the targets; tags = the person's number under each of
    their keypoints (what a perfect network would predict)."""
    tags = np.zeros((K, HM, HM), np.float32)
    for n, person in enumerate(enc['keypoint_indices']):
        for k, (index, vis) in enumerate(person):
            if vis:
                tags[k].flat[index] = 10.0 * (n + 1)
    return torch.tensor(np.concatenate([enc['heatmaps'], tags]))[None]


def test_every_stack_is_supervised_and_perfect_maps_cost_nothing():
    h = head()
    sample, enc = encoded_sample(people())
    good = perfect_maps(enc)
    bad = torch.rand_like(good)
    losses = h.loss((bad, good), [sample])
    assert sorted(losses) == sorted(
        f'loss_{n}_stack{i}' for i in (0, 1) for n in ('kpt', 'pull', 'push'))
    assert losses['loss_kpt_stack1'] < 1e-9 < losses['loss_kpt_stack0']
    assert losses['loss_pull_stack1'] < 1e-9


def test_perfect_maps_decode_to_the_people():
    h = head()
    kpts = people()
    sample, enc = encoded_sample(kpts)
    maps = perfect_maps(enc)
    pred = h.predict((torch.rand_like(maps), maps), [sample],
                     test_cfg=dict(flip_test=False))[0]
    assert len(pred.keypoints) >= 2
    found = pred.keypoints[np.argsort(-pred.bbox_scores)[:2]]
    found = found[np.argsort(found[:, :, 0].mean(1))]  # left person first
    assert np.abs(found - kpts).max() < 4.5  # a heatmap pixel is 4 px


def test_wrong_map_count_names_the_key():
    with pytest.raises(ValueError, match='num_keypoints=34'):
        head().forward((torch.zeros(1, 17, HM, HM),) * 2)
