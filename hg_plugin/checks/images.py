"""The image files a config's datasets name, checked before a run: every
file must exist and begin like an image (its first bytes: JPEG, PNG, BMP,
GIF, TIFF, WebP, ...; anything else is opened by Pillow's header reader).
A missing image or a text file named ``.jpg`` is named before the model is
built, not when the loader reaches it an hour in. Reading 16 bytes a file
is cheap: seconds for MPII's 25,000 records.

MPII lists (``image``) and COCO-style files (``images[].file_name`` of the
images that have annotations) are checked; other formats are left alone.
"""
import json
import os.path as osp
from typing import Iterable, Iterator, List, Optional, Tuple

from PIL import Image

from .dataset_records import COCO_KEYPOINT_DATASETS
from .metainfo import dataset_configs

MAGIC = (b'\xff\xd8\xff', b'\x89PNG', b'BM', b'GIF8', b'II*\x00',
         b'MM\x00*', b'\x00\x00\x00\x0cjP  ')


def why_unreadable(path: str) -> Optional[str]:
    """Why ``path`` cannot be an image, or None."""
    try:
        with open(path, 'rb') as f:
            head = f.read(16)
    except FileNotFoundError:
        return 'missing'
    except OSError as e:
        return f'cannot be read ({e.strerror})'
    if not head:
        return 'empty (0 bytes)'
    if head.startswith(MAGIC) or (head[:4] == b'RIFF' and
                                  head[8:12] == b'WEBP'):
        return None
    try:  # a rarer format: Pillow reads the header only
        with Image.open(path):
            return None
    except Exception:
        return f'not an image (starts with {head[:8]!r})'


def dataset_images(ds: dict) -> List[str]:
    """The image paths the dataset config ``ds`` names (MPII and COCO-style
    annotation files; [] for other formats or a missing file)."""
    root = ds.get('data_root') or ''
    ann = osp.join(root, ds.get('ann_file') or '')
    img = (ds.get('data_prefix') or {}).get('img')
    if not ds.get('ann_file') or img is None or not osp.isfile(ann):
        return []
    folder = osp.join(root, img)
    with open(ann) as f:
        data = json.load(f)
    if ds.get('type') == 'MpiiDataset' and isinstance(data, list):
        names = [r['image'] for r in data
                 if isinstance(r, dict) and isinstance(r.get('image'), str)]
    elif ds.get('type') in COCO_KEYPOINT_DATASETS and isinstance(data, dict):
        used = {a.get('image_id') for a in data.get('annotations') or []}
        names = [im['file_name'] for im in data.get('images') or []
                 if im.get('id') in used and 'file_name' in im]
    else:
        return []
    return [osp.join(folder, n) for n in dict.fromkeys(names)]


def find_unreadable_images(cfg, loaders: Iterable[str]
                           ) -> Iterator[Tuple[str, str, List[Tuple[str,
                                                                    str]]]]:
    """(loader, annotation file, [(image, why), ...]) for each dataset of
    the given dataloaders that names missing or unreadable images."""
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for ds in dataset_configs(cfg[loader]['dataset']):
            bad = [(p, why) for p in dataset_images(ds)
                   for why in [why_unreadable(p)] if why]
            if bad:
                yield loader, osp.join(ds.get('data_root') or '',
                                       ds['ann_file']), bad


def missing_images_message(cfg, loaders: Iterable[str]) -> Optional[str]:
    """One line naming the first missing or unreadable image and the count,
    or None."""
    for loader, ann, bad in find_unreadable_images(cfg, loaders):
        path, why = bad[0]
        return (f'error: {ann} ({loader}) names {len(bad)} missing or '
                f'unreadable image(s); first: {path} ({why}): restore the '
                'images or remove their records from the annotation file')
    return None
