"""A procedurally generated dataset of articulated figures in MPII layout.

It is the project's embedded default: ``make demo`` trains on it with no
download. Each image shows one frontal figure (the person's right limbs attach
on the image's left, as for a person facing the camera, so labels stay
consistent under flip augmentation) over a cluttered background. The output
is exactly what MMPose's ``MpiiDataset`` and ``MpiiPCKAccuracy`` read::

    OUT/images/000000001.jpg ...
    OUT/annotations/mpii_train.json, mpii_val.json   (MPII json records)
    OUT/annotations/mpii_gt_val.mat                  (headboxes_src, 2x2xN)
"""
import json
import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np

from ..datasets.head_boxes import write_headboxes
from .figure import make_sample
from .hard import HARD, MEDIUM, make_hard_sample

# bumped whenever a setting draws other images: caches of generated sets
# (tools/ablation.py) are named with it
VERSIONS = {'easy': 1, 'medium': 5, 'hard': 1}
SAMPLERS = {
    'easy': make_sample,
    'medium': lambda rng, size: make_hard_sample(rng, size, MEDIUM),
    'hard': lambda rng, size: make_hard_sample(rng, size, HARD),
}


def make_synthetic_mpii(out_dir: str, num_train: int = 1000,
                        num_val: int = 200, image_size: int = 192,
                        seed: int = 0,
                        difficulty: str = 'easy') -> Dict[str, str]:
    """Write the dataset under ``out_dir``; return its annotation paths.
    ``difficulty='hard'``: occlusions, other figures, textured backgrounds,
    wide scale/rotation, truncation; ``'medium'``: the same scene with
    narrower ranges and the ``easy`` joint dots (:mod:`.hard`)."""
    if difficulty not in SAMPLERS:
        raise ValueError(f'difficulty must be one of {", ".join(SAMPLERS)}, '
                         f'got {difficulty!r}')
    sample = SAMPLERS[difficulty]
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    paths = {}
    idx = 0
    for split, count in (('train', num_train), ('val', num_val)):
        records: List[Dict] = []
        boxes = []
        for _ in range(count):
            idx += 1
            img, record, box = sample(rng, image_size)
            record['image'] = f'{idx:09d}.jpg'
            cv2.imwrite(osp.join(out_dir, 'images', record['image']), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            records.append(record)
            boxes.append(box)
        paths[split] = osp.join(out_dir, 'annotations', f'mpii_{split}.json')
        with open(paths[split], 'w') as f:
            json.dump(records, f)
    paths['headbox'] = osp.join(out_dir, 'annotations', 'mpii_gt_val.mat')
    write_headboxes(paths['headbox'], np.stack(boxes))
    return paths
