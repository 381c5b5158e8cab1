"""Find missing dataset files before a run starts, to report them in one line."""
import os.path as osp
from typing import Iterable, List, Optional, Tuple

from .metainfo import dataset_configs

HOW_TO_GET = {
    'MpiiDataset':
    'get the MPII Human Pose images and MMPose\'s MPII annotations '
    '(mpii_train.json, mpii_val.json, mpii_gt_val.mat) and lay them out as '
    'data/mpii/images/*.jpg and data/mpii/annotations/ (README: "MPII data"), '
    'or point data_root at them with --cfg-options',
    'CocoDataset':
    'get COCO 2017 images and person_keypoints annotations and lay them out '
    'as data/coco/{train2017,val2017,annotations}/ (README: "COCO data")',
}


def find_missing_data(cfg, loaders: Iterable[str]) -> Optional[Tuple[str, str,
                                                                   str]]:
    """Return ``(path, config key, how to fix)`` of the first missing input
    of the given dataloaders, or None when everything is there."""
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for ds in dataset_configs(cfg[loader]['dataset']):
            root = ds.get('data_root') or ''
            candidates: List[Tuple[str, str]] = []
            if ds.get('ann_file'):
                candidates.append((osp.join(root, ds['ann_file']), 'ann_file'))
            img = (ds.get('data_prefix') or {}).get('img')
            if img is not None:
                candidates.append((osp.join(root, img), 'data_prefix.img'))
            for key in ('headbox_file', 'bbox_file'):
                if ds.get(key):
                    candidates.append((ds[key], key))
            evaluator = loader.replace('_dataloader', '_evaluator')
            evaluators = cfg.get(evaluator) or []
            if isinstance(evaluators, dict):
                evaluators = [evaluators]
            for i, ev in enumerate(evaluators):
                if ev.get('ann_file'):
                    name = evaluator if len(evaluators) == 1 else \
                        f'{evaluator}[{i}]'
                    candidates.append((ev['ann_file'], f'{name}.ann_file'))
            for path, key in candidates:
                if not osp.exists(path):
                    hint = HOW_TO_GET.get(
                        ds.get('type'), 'check the path in the config or set '
                        'it with --cfg-options')
                    full_key = key if '_evaluator' in key else \
                        f'{loader}.dataset.{key}'
                    return path, full_key, hint
    return None


def missing_data_message(cfg, loaders: Iterable[str]) -> Optional[str]:
    """One line saying what is missing, where it is configured, how to fix."""
    missing = find_missing_data(cfg, loaders)
    if missing is None:
        return None
    path, key, hint = missing
    return f'error: data not found: {path} (config key {key}); {hint}.'
