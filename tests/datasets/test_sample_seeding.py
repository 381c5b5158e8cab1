import pickle

import numpy as np
from mmengine.dataset import Compose, DefaultSampler

import hg_plugin  # noqa: F401  (registers the modules)
from hg_plugin.datasets import (SampleKey, SeedAugmentation, SeededSampler,
                                sample_seed)


class Dataset:
    def __init__(self, n, pipeline):
        self.n, self.pipeline = n, Compose(pipeline)

    def __len__(self):
        return self.n


AUG = [dict(type='mmpose.SeedAugmentation'),
       dict(type='mmpose.RandomFlip', direction='horizontal'),
       dict(type='mmpose.RandomBBoxTransform', rotate_factor=30,
            scale_factor=(0.75, 1.25))]


def sample(index):
    return dict(sample_idx=index, bbox=np.array([[10., 20., 110., 220.]]),
                bbox_center=np.array([[60., 120.]]),
                bbox_scale=np.array([[100., 200.]]),
                keypoints=np.zeros((1, 16, 2)), keypoints_visible=np.ones((1, 16)),
                flip_indices=list(range(16)), img_shape=(240, 320),
                img=np.zeros((240, 320, 3), np.uint8))


def test_same_order_as_default_sampler_with_a_seed_per_sample():
    ds = Dataset(11, AUG)
    seeded, default = SeededSampler(ds, seed=7), DefaultSampler(ds, seed=7)
    for epoch in (0, 3):
        seeded.set_epoch(epoch)
        default.set_epoch(epoch)
        keys = list(seeded)
        assert keys == list(default)
        assert [k.seed for k in keys] == [sample_seed(7, epoch, k) for k in keys]
    again = pickle.loads(pickle.dumps(keys[0]))  # as sent to a worker
    assert type(again) is SampleKey and again.seed == keys[0].seed
    assert len({sample_seed(7, e, i) for e in range(3) for i in range(11)}) == 33


def test_a_pipeline_without_seed_augmentation_is_named(monkeypatch):
    from mmengine.logging import MMLogger
    said = []

    class Logger:
        def warning(self, msg):
            said.append(msg)

        def __getattr__(self, name):  # info, log, ...
            return lambda *a, **k: None

    monkeypatch.setattr(MMLogger, 'get_current_instance', Logger)
    SeededSampler(Dataset(3, AUG), seed=0)
    assert not said
    SeededSampler(Dataset(3, AUG[1:]), seed=0)
    assert len(said) == 1 and 'has no SeedAugmentation' in said[0]
    assert "dict(type='SeedAugmentation') first" in said[0]


def test_draws_depend_only_on_the_sample_seed():
    pipe = Compose(AUG)

    def augment(key, noise):
        np.random.rand(noise)  # whatever was drawn before
        out = pipe(sample(key))
        return out['flip'], out['bbox_center'].tolist(), out['bbox_scale'].tolist(), out['bbox_rotation'].tolist()

    a = augment(SampleKey(4, sample_seed(0, 1, 4)), 3)
    assert a == augment(SampleKey(4, sample_seed(0, 1, 4)), 17)
    others = {str(augment(SampleKey(4, sample_seed(0, e, 4)), 0))
              for e in range(2, 8)}  # other epochs draw otherwise
    assert len(others) > 1
    # without a sample seed (validation, test, inference) the global stream
    # is left alone
    np.random.seed(1)
    expected = np.random.rand()
    np.random.seed(1)
    SeedAugmentation()(dict(sample_idx=4))
    assert np.random.rand() == expected


def test_torch_cpu_draws_are_those_of_torch_manual_seed():
    """A transform drawing with torch gets what ``torch.manual_seed(seed)``
    would give it (only the CPU generator is reseeded, which is faster)."""
    import torch
    key = SampleKey(4, sample_seed(0, 1, 4))
    torch.manual_seed(key.seed)
    expected = torch.rand(5)
    torch.rand(3)  # whatever was drawn before
    SeedAugmentation()(dict(sample_idx=key))
    assert torch.equal(torch.rand(5), expected)
