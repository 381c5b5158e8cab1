"""Find missing dataset files before a run starts, to report them in one line."""
import os
import os.path as osp
from typing import Iterable, List, Optional, Tuple

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


def _datasets(cfg: dict) -> Iterable[dict]:
    """The dataset configs inside a dataloader's ``dataset``, unwrapping
    MMEngine's dataset wrappers."""
    if 'datasets' in cfg:
        for sub in cfg['datasets']:
            yield from _datasets(sub)
    elif 'dataset' in cfg and 'type' in cfg and 'ann_file' not in cfg:
        yield from _datasets(cfg['dataset'])
    else:
        yield cfg


def find_missing_data(cfg, loaders: Iterable[str]) -> Optional[Tuple[str, str,
                                                                   str]]:
    """Return ``(path, config key, how to fix)`` of the first missing input
    of the given dataloaders, or None when everything is there."""
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for ds in _datasets(cfg[loader]['dataset']):
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


# datasets whose COCO-style records keep all their keypoints in "keypoints"
COCO_KEYPOINT_DATASETS = ('CocoDataset', 'CrowdPoseDataset', 'AicDataset',
                          'OCHumanDataset', 'AP10KDataset')


def _num_keypoints(ds: dict) -> Optional[int]:
    """Keypoints of a dataset config (its class METAINFO or ``metainfo``)."""
    import warnings
    try:
        from mmpose.datasets.datasets.utils import parse_pose_metainfo
        from mmpose.registry import DATASETS
        meta = ds.get('metainfo') or DATASETS.get(ds['type']).METAINFO
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # "a matched config file ..."
            return parse_pose_metainfo(dict(meta))['num_keypoints']
    except Exception:  # an unknown or custom dataset: not checked
        return None


def invalid_records(cfg, loaders: Iterable[str], work_dir: str
                    ) -> Optional[str]:
    """Check the annotation records of the given dataloaders
    (:mod:`hg_plugin.datasets.record_check`). The first invalid record is
    returned as one line naming file, record, image and field. With the
    config key ``invalid_records='skip'`` the invalid records are left out
    instead: a filtered copy of the file goes to
    ``work_dir/checked_annotations/`` and the dataset reads that one."""
    import json

    from ..datasets.record_check import check_coco_file, check_mpii_file
    skip = cfg.get('invalid_records', 'error') == 'skip'
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for ds in _datasets(cfg[loader]['dataset']):
            root = ds.get('data_root') or ''
            if not ds.get('ann_file') or ds.get('type') is None:
                continue
            ann = osp.join(root, ds['ann_file'])
            k = _num_keypoints(ds)
            if k is None or not osp.isfile(ann):
                continue
            if ds['type'] == 'MpiiDataset':
                boxes = None
                if ds.get('headbox_file') and osp.isfile(ds['headbox_file']):
                    from scipy.io import loadmat
                    boxes = loadmat(ds['headbox_file'])[
                        'headboxes_src'].shape[-1]
                img = (ds.get('data_prefix') or {}).get('img')
                problems = check_mpii_file(
                    ann, k, osp.join(root, img) if img is not None else None,
                    boxes)
            elif ds['type'] in COCO_KEYPOINT_DATASETS:
                problems = check_coco_file(ann, k)
            else:  # keypoints elsewhere (e.g. COCO-WholeBody's face_kpts)
                continue
            if not problems:
                continue
            i, image, why = problems[0]
            head = f'{ann}: ' + (f'record {i} (image {image}): '
                                 if i >= 0 else '')
            # head boxes are matched to records by index: never skip there
            if not skip or ds.get('headbox_file') or i < 0 or \
                    ds['type'] != 'MpiiDataset':
                return (f'error: {head}{why} ({len(problems)} invalid '
                        f'record(s)); fix the file' +
                        (", or set invalid_records='skip' (--cfg-options "
                         "invalid_records=skip) to leave them out"
                         if ds['type'] == 'MpiiDataset' and i >= 0 and
                         not ds.get('headbox_file') else ''))
            with open(ann) as f:
                records = json.load(f)
            bad = {p[0] for p in problems}
            kept = [r for n, r in enumerate(records) if n not in bad]
            out = osp.join(work_dir, 'checked_annotations',
                           f'{loader}_{osp.basename(ann)}')
            os.makedirs(osp.dirname(out), exist_ok=True)
            with open(out, 'w') as f:
                json.dump(kept, f)
            ds['ann_file'] = osp.abspath(out)
            print(f'warning: {ann}: left out {len(bad)} invalid record(s) of '
                  f'{len(records)} (first: record {i}, image {image}: {why});'
                  f' training on {out}')
    return None
