"""The top-down data pipelines of hg_plugin's configs, as config dicts, for
a given codec: a config that changes the input size calls this instead of
restating its base's pipeline (MMEngine binds ``codec`` when a file is
read, so a base's pipeline keeps the base's size). Imports nothing of
hg_plugin or MMPose: configs import it while they are read::

    _base_ = ['./hg8_mpii_256.py']
    from hg_plugin.pipelines import topdown_pipelines
    codec = dict(type='MSRAHeatmap', input_size=(384, 384), ...)
    train_pipeline, val_pipeline = topdown_pipelines(codec)
"""
from typing import Dict, List, Tuple


def topdown_pipelines(codec: Dict, augment: str = 'paper',
                      use_udp: bool = False) -> Tuple[List[Dict], List[Dict]]:
    """(train, val) pipelines for ``codec``.

    Args:
        codec (dict): The codec config (``input_size``, the target encoder).
        augment (str): ``'paper'``: horizontal flip, rotation +-30 deg and
            scale 0.75-1.25 (Newell et al., Sec. 5), no shift; ``'coco'``:
            MMPose's COCO top-down augmentation (flip, half body, its
            shift/scale/rotate defaults).
        use_udp (bool): Unbiased data processing in the affine transform
            (for a ``UDPHeatmap`` codec).

    Both load images with ``VerifiedLoadImage`` (a truncated file is named,
    not decoded half); training draws depend only on (seed, epoch, sample)
    (``SeedAugmentation``), so ``--resume`` repeats the uninterrupted run.
    """
    if augment not in ('paper', 'coco'):
        raise ValueError(f"augment must be 'paper' or 'coco', got "
                         f'{augment!r}')
    if augment == 'paper':
        geometry = [
            dict(type='RandomFlip', direction='horizontal'),
            dict(type='RandomBBoxTransform', shift_prob=0, rotate_factor=30,
                 scale_factor=(0.75, 1.25))
        ]
    else:
        geometry = [
            dict(type='RandomFlip', direction='horizontal'),
            dict(type='RandomHalfBody'),
            dict(type='RandomBBoxTransform')
        ]
    affine = dict(type='TopdownAffine', input_size=codec['input_size'])
    if use_udp:
        affine['use_udp'] = True
    train = [
        dict(type='SeedAugmentation'),
        dict(type='VerifiedLoadImage'),
        dict(type='GetBBoxCenterScale'),
        *geometry,
        dict(affine),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs')
    ]
    val = [
        dict(type='VerifiedLoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(affine),
        dict(type='PackPoseInputs')
    ]
    return train, val


def bottomup_ae_pipeline(codec: Dict) -> List[Dict]:
    """The training pipeline of Associative Embedding for ``codec``:
    MMPose's bottom-up augmentation (random scale/rotation/shift of the
    whole image, flip), heatmap and tag targets, the crowd/unlabelled mask,
    and ``PackAEInputs`` (``PackPoseInputs`` plus the keypoint indices the
    tag loss needs, which MMPose 1.3 leaves out). MMPose's own AE config
    ships ``train_pipeline = []``."""
    return [
        dict(type='SeedAugmentation'),
        dict(type='VerifiedLoadImage'),
        dict(type='BottomupRandomAffine', input_size=codec['input_size']),
        dict(type='RandomFlip', direction='horizontal'),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='BottomupGetHeatmapMask'),
        dict(type='PackAEInputs'),
    ]
