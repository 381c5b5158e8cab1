"""Check annotation records when a dataset is loaded, before any training:
a bad record is named (file, record index, image, field) instead of training
on it silently or failing late with an unrelated message.

MPII-style lists (``MpiiDataset``: ``image``, ``joints``, ``joints_vis``,
``center``, ``scale``) and COCO-style files (``images`` + ``annotations``
with ``keypoints``) are checked; other formats are left alone.
"""
import json
import math
import os.path as osp
from typing import List, Optional, Tuple

from PIL import Image

Problem = Tuple[int, str, str]  # record index, image, what is wrong


def _finite(values) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def _image_size(path: str) -> Optional[Tuple[int, int]]:
    """(width, height) from the image header, or None if unreadable."""
    try:
        with Image.open(path) as im:
            return im.size
    except Exception:  # missing or broken images are VerifiedLoadImage's
        return None


def check_mpii_record(rec, num_keypoints: int,
                      img_dir: Optional[str]) -> Optional[str]:
    """What is wrong with one MPII-style record, or None."""
    if not isinstance(rec, dict):
        return f'record is a {type(rec).__name__}, not an object'
    image = rec.get('image')
    if not isinstance(image, str) or not image.split('.')[0].isdigit():
        return (f'field "image" {image!r}: MpiiDataset needs a numeric file '
                'name (e.g. 015601864.jpg)')
    center, scale = rec.get('center'), rec.get('scale')
    if not isinstance(center, (list, tuple)) or len(center) != 2 or \
            not _finite(center):
        return f'field "center" {center!r}: needs two finite numbers'
    if not _finite([scale]) or float(scale) <= 0:
        return f'field "scale" {scale!r}: needs a finite number > 0'
    joints, vis = rec.get('joints'), rec.get('joints_vis')
    if not isinstance(joints, list) or len(joints) != num_keypoints:
        n = len(joints) if isinstance(joints, list) else joints
        return (f'field "joints" has {n} entries, the dataset has '
                f'{num_keypoints} keypoints')
    if not isinstance(vis, list) or len(vis) != num_keypoints:
        n = len(vis) if isinstance(vis, list) else vis
        return (f'field "joints_vis" has {n} entries, the dataset has '
                f'{num_keypoints} keypoints')
    size = None
    for k, (joint, v) in enumerate(zip(joints, vis)):
        if not isinstance(joint, (list, tuple)) or len(joint) != 2 or \
                not _finite(joint):
            return f'field "joints"[{k}] {joint!r}: needs two finite numbers'
        if not v:
            continue
        x, y = float(joint[0]), float(joint[1])
        if x < 0 or y < 0:
            return f'field "joints"[{k}] {joint!r}: visible joint at a ' \
                'negative coordinate'
        if img_dir is not None:
            size = size or _image_size(osp.join(img_dir, image)) or (0, 0)
            w, h = size
            if w and (x > 2 * w or y > 2 * h):
                return (f'field "joints"[{k}] {joint!r}: visible joint far '
                        f'outside the {w}x{h} image')
    return None


def check_mpii_file(ann_file: str, num_keypoints: int = 16,
                    img_dir: Optional[str] = None,
                    num_headboxes: Optional[int] = None) -> List[Problem]:
    with open(ann_file) as f:
        records = json.load(f)
    if not isinstance(records, list):
        return [(-1, '', 'an MPII annotation file is a JSON list of records')]
    problems = []
    for i, rec in enumerate(records):
        why = check_mpii_record(rec, num_keypoints, img_dir)
        if why:
            image = rec.get('image', '?') if isinstance(rec, dict) else '?'
            problems.append((i, str(image), why))
    if num_headboxes is not None and num_headboxes < len(records):
        problems.append((num_headboxes, '', f'the head-box file has '
                         f'{num_headboxes} boxes for {len(records)} records'))
    return problems


def check_coco_file(ann_file: str, num_keypoints: int) -> List[Problem]:
    with open(ann_file) as f:
        data = json.load(f)
    if not isinstance(data, dict) or 'annotations' not in data:
        return []
    names = {im.get('id'): im.get('file_name', '?')
             for im in data.get('images', [])}
    problems = []
    for i, ann in enumerate(data['annotations']):
        image = str(names.get(ann.get('image_id'), ann.get('image_id')))
        kpts = ann.get('keypoints')
        if kpts is None:
            continue
        if not isinstance(kpts, list) or len(kpts) != 3 * num_keypoints:
            n = len(kpts) if isinstance(kpts, list) else kpts
            problems.append((i, image, f'field "keypoints" has {n} numbers, '
                             f'3 x {num_keypoints} keypoints expected'))
        elif not _finite(kpts):
            problems.append((i, image, 'field "keypoints" holds a NaN/Inf'))
        bbox = ann.get('bbox')
        if bbox is not None and (not isinstance(bbox, list) or len(bbox) != 4
                                 or not _finite(bbox)):
            problems.append((i, image, f'field "bbox" {bbox!r}: needs 4 '
                             'finite numbers'))
    return problems
