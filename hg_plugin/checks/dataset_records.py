"""The annotation records of a config's datasets, checked before a run:
:func:`find_invalid_records` reads (no side effects),
:func:`keep_valid_records` writes the filtered copy a skipping run trains
on, :func:`invalid_records` puts the two together for the tools and
:class:`~hg_plugin.engine.ConfigCheckHook`."""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Optional

from scipy.io import loadmat

from .metainfo import dataset_configs, dataset_num_keypoints
from .records import Problem, check_coco_file, check_mpii_file

# datasets whose COCO-style records keep all their keypoints in "keypoints"
COCO_KEYPOINT_DATASETS = ('CocoDataset', 'CrowdPoseDataset', 'AicDataset',
                          'OCHumanDataset', 'AP10KDataset')
SKIP_HINT = (", or set invalid_records='skip' (--cfg-options "
             "invalid_records=skip) to leave them out")


@dataclass
class DatasetRecords:
    """What the check found in one dataset's annotation file."""
    loader: str
    dataset: dict       # the dataset's config (its ann_file may be replaced)
    ann_file: str
    num_records: int
    problems: List[Problem]

    @property
    def skippable(self) -> bool:
        """Records may be left out: MPII records without a head-box file
        (boxes are matched to records by index) and no file-level problem."""
        return (self.dataset['type'] == 'MpiiDataset'
                and not self.dataset.get('headbox_file')
                and all(i >= 0 for i, _, _ in self.problems))

    @property
    def usable(self) -> bool:
        """Whether any record is valid."""
        return len({p[0] for p in self.problems}) < self.num_records

    def unusable_line(self) -> str:
        """'error: FILE holds no annotation records ...' or '... holds no
        usable records: all N are invalid (first: ...)'."""
        if not self.num_records:
            return self.error_line()
        i, image, why = self.problems[0]
        return (f'error: {self.ann_file} holds no usable records: all '
                f'{self.num_records} are invalid (first: record {i}, image '
                f'{image}: {why}); fix the file')

    def error_line(self) -> str:
        """'error: FILE: record I (image X): WHY (N invalid record(s)); fix
        the file' (and how to skip them, where that is possible)."""
        if not self.num_records and not self.problems:
            return (f'error: {self.ann_file} holds no annotation records '
                    f'({self.loader}.dataset.ann_file): point it at a file '
                    'with records')
        i, image, why = self.problems[0]
        where = f'record {i} (image {image}): ' if i >= 0 else ''
        return (f'error: {self.ann_file}: {where}{why} ({len(self.problems)}'
                ' invalid record(s)); fix the file' +
                (SKIP_HINT if self.skippable else ''))


def _mpii_problems(ds: dict, ann: str, k: int) -> List[Problem]:
    boxes = None
    if ds.get('headbox_file') and osp.isfile(ds['headbox_file']):
        boxes = loadmat(ds['headbox_file'])['headboxes_src'].shape[-1]
    img = (ds.get('data_prefix') or {}).get('img')
    root = ds.get('data_root') or ''
    return check_mpii_file(ann, k, osp.join(root, img)
                           if img is not None else None, boxes)


def _num_records(ann: str, dataset_type: str) -> int:
    with open(ann) as f:
        data = json.load(f)
    if dataset_type == 'MpiiDataset':
        return len(data) if isinstance(data, list) else 0
    return len(data.get('annotations') or []) if isinstance(data, dict) \
        else 0


def find_invalid_records(cfg, loaders: Iterable[str]
                         ) -> Iterator[DatasetRecords]:
    """Each checked dataset of the given dataloaders whose file holds no
    records or invalid ones (MPII and COCO-style files; other formats are
    not checked)."""
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for ds in dataset_configs(cfg[loader]['dataset']):
            if not ds.get('ann_file') or ds.get('type') is None:
                continue
            ann = osp.join(ds.get('data_root') or '', ds['ann_file'])
            k = dataset_num_keypoints(ds)
            if k is None or not osp.isfile(ann):
                continue
            if ds['type'] == 'MpiiDataset':
                problems = _mpii_problems(ds, ann, k)
            elif ds['type'] in COCO_KEYPOINT_DATASETS:
                problems = check_coco_file(ann, k)
            else:  # keypoints elsewhere (e.g. COCO-WholeBody's face_kpts)
                continue
            count = _num_records(ann, ds['type'])
            if problems or not count:
                yield DatasetRecords(loader, ds, ann, count, problems)


def keep_valid_records(found: DatasetRecords, work_dir: str) -> str:
    """Write the valid records of ``found`` to ``work_dir/
    checked_annotations/`` and point its dataset config there; returns the
    new file."""
    with open(found.ann_file) as f:
        records = json.load(f)
    bad = {p[0] for p in found.problems}
    kept = [r for n, r in enumerate(records) if n not in bad]
    out = osp.join(work_dir, 'checked_annotations',
                   f'{found.loader}_{osp.basename(found.ann_file)}')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(kept, f)
    found.dataset['ann_file'] = osp.abspath(out)
    return out


def invalid_records(cfg, loaders: Iterable[str], work_dir: str,
                    skip: Optional[bool] = None) -> Optional[str]:
    """The first problem with the records of the given dataloaders as one
    line, or None. With ``skip`` (default: the config key
    ``invalid_records='skip'``) invalid records of a skippable dataset are
    left out instead (:func:`keep_valid_records`, one warning line each),
    unless none would remain."""
    if skip is None:
        skip = cfg.get('invalid_records', 'error') == 'skip'
    for found in find_invalid_records(cfg, loaders):
        if not (skip and found.skippable and found.problems):
            return found.error_line()
        if not found.usable:
            return found.unusable_line()
        i, image, why = found.problems[0]
        out = keep_valid_records(found, work_dir)
        print(f'warning: {found.ann_file}: left out {len(found.problems)} '
              f'invalid record(s) of {found.num_records} (first: record {i},'
              f' image {image}: {why}); training on {out}')
    return None
