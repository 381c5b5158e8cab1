"""Augmentation draws that depend only on (seed, epoch, sample), so that a
run resumed after ``kill -9`` repeats the uninterrupted run bit for bit.

MMEngine seeds the global RNGs once per process (and each DataLoader worker
once, with the same seed every epoch unless workers persist), so a sample's
random flip/rotation/scale depends on everything drawn before it: a resumed
run, a different ``num_workers`` or ``persistent_workers`` draws different
augmentations. Here the sampler hands every index out with its own seed,
derived from (seed, epoch, index), and the first transform of the pipeline
reseeds ``random``, ``numpy`` and ``torch`` from it. Nothing else needs to be
saved: the seed is in the checkpoint's meta (restored by
:class:`~hg_plugin.engine.ExactResumeHook`), epoch and index follow from the
iteration, and a worker's RNG state no longer matters.

Config::

    train_dataloader = dict(sampler=dict(type='SeededSampler', shuffle=True),
                            dataset=dict(pipeline=[dict(type='SeedAugmentation'),
                                                   ...]))
"""
import random

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import DefaultSampler
from mmengine.logging import MMLogger
from mmpose.registry import DATA_SAMPLERS, TRANSFORMS


class SampleKey(int):
    """A dataset index (an ``int`` everywhere) that carries its sample seed
    through MMEngine's ``get_data_info`` (``results['sample_idx']``)."""

    seed: int

    def __new__(cls, index: int, seed: int):
        key = super().__new__(cls, index)
        key.seed = seed
        return key

    def __reduce__(self):  # keep the seed when sent to a DataLoader worker
        return SampleKey, (int(self), self.seed)


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The 32-bit seed of one sample's augmentation in one epoch."""
    return int(np.random.SeedSequence(
        [seed % 2**32, epoch, index]).generate_state(1)[0])


def _pipelines(dataset):
    """The pipelines of a dataset, looking inside MMEngine/MMPose wrappers."""
    if hasattr(dataset, 'datasets'):
        for sub in dataset.datasets:
            yield from _pipelines(sub)
    if hasattr(dataset, 'dataset'):
        yield from _pipelines(dataset.dataset)
    if getattr(dataset, 'pipeline', None) is not None:
        yield dataset.pipeline


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """MMEngine's ``DefaultSampler`` (same order for the same seed and epoch,
    same rank split, same arguments) whose indices carry the seed of their
    sample's augmentation, :func:`sample_seed` (seed, epoch, index).

    The dataset's pipeline should start with :class:`SeedAugmentation`;
    without it the seeds are ignored (the run trains as with
    ``DefaultSampler``) and a warning says so.
    A sample repeated to pad the last distributed batch gets the same draws
    as its first occurrence.
    """

    def __init__(self, dataset, *args, **kwargs):
        super().__init__(dataset, *args, **kwargs)
        for pipeline in _pipelines(dataset):
            transforms = getattr(pipeline, 'transforms', [])
            if not any(isinstance(t, SeedAugmentation) for t in transforms):
                MMLogger.get_current_instance().warning(
                    "SeededSampler: train_dataloader.dataset.pipeline has no "
                    "SeedAugmentation, so augmentation draws are not "
                    "reproducible on --resume; put dict(type="
                    "'SeedAugmentation') first in the pipeline")
                break

    def __iter__(self):
        for index in super().__iter__():
            yield SampleKey(index, sample_seed(self.seed, self.epoch, index))


@TRANSFORMS.register_module()
class SeedAugmentation(BaseTransform):
    """Reseed ``random``, ``numpy.random`` and torch's CPU generator from
    the sample seed that :class:`SeededSampler` attached to
    ``results['sample_idx']``, so that every later random transform draws
    the same values for this sample in this epoch, in any worker, process
    or resumed run. With another sampler (validation, test, inference) it
    changes nothing.
    """

    def transform(self, results: dict) -> dict:
        seed = getattr(results.get('sample_idx'), 'seed', None)
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
            # the CPU generator only: the same draws as torch.manual_seed,
            # which also reseeds every accelerator's generators (0.2 ms of
            # 2 ms per sample here); transforms draw on the CPU
            torch.default_generator.manual_seed(seed)
        return results
