import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get('HG_SHARED_DATA',
                                  REPO.parent / 'shared' / 'data'))


def shared_dir(name: str) -> Path:
    """A folder of real samples under ../shared/data. Missing: a hard failure
    in CI (CI=true), a skip on a developer machine without it."""
    path = SHARED_DATA / name
    if not path.is_dir():
        msg = (f'real sample data not found at {path}: CI must have ../shared '
               'beside the checkout (or set HG_SHARED_DATA)')
        if os.environ.get('CI', '').lower() in ('1', 'true', 'yes'):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return path


def mpii_records():
    """The real MPII annotations of ../shared/data/mpii."""
    return json.loads((shared_dir('mpii') / 'test_mpii.json').read_text())


def make_mpii_root(root: Path, records, images=None) -> Path:
    """MMPose's MPII layout at ``root``: annotations/mpii_{train,val}.json
    (both ``records``), mpii_gt_val.mat (head boxes written with
    scipy.io.savemat), and images/: a link to the real samples, or the files
    given as ``{name: bytes}``."""
    from hg_plugin.datasets import approx_head_boxes, write_headboxes
    (root / 'annotations').mkdir(parents=True)
    if images is None:
        (root / 'images').symlink_to(shared_dir('mpii'),
                                     target_is_directory=True)
    else:
        (root / 'images').mkdir()
        for name, data in images.items():
            (root / 'images' / name).write_bytes(data)
    for split in ('train', 'val'):
        (root / 'annotations' / f'mpii_{split}.json').write_text(
            json.dumps(records))
    write_headboxes(str(root / 'annotations' / 'mpii_gt_val.mat'),
                    approx_head_boxes(records))
    return root


@pytest.fixture(scope='session')
def mpii_root(tmp_path_factory) -> Path:
    """The 5 real MPII samples laid out as MMPose expects."""
    return make_mpii_root(tmp_path_factory.mktemp('mpii') / 'root',
                          mpii_records())


def mpii_cfg_options(root: Path) -> dict:
    """Point a configs/*mpii* config at ``root``."""
    r = f'{root}/'
    return {
        'train_dataloader.dataset.data_root': r,
        'val_dataloader.dataset.data_root': r,
        'val_dataloader.dataset.headbox_file':
        f'{r}annotations/mpii_gt_val.mat',
        'test_dataloader.dataset.data_root': r,
        'test_dataloader.dataset.headbox_file':
        f'{r}annotations/mpii_gt_val.mat',
    }


@pytest.fixture(scope='session')
def coco_workspace(tmp_path_factory) -> Path:
    """A working directory holding ``data/coco/`` as MMPose's COCO configs
    expect, built from the 4 real COCO val images (symlinked): keypoint and
    whole-body annotations for train and val, and the person detections."""
    src = shared_dir('coco')
    ws = tmp_path_factory.mktemp('coco_ws')
    coco = ws / 'data' / 'coco'
    (coco / 'annotations').mkdir(parents=True)
    (coco / 'person_detection_results').mkdir()
    for split in ('train2017', 'val2017'):
        (coco / split).symlink_to(src, target_is_directory=True)
    links = {
        'annotations/person_keypoints_train2017.json': 'test_coco.json',
        'annotations/person_keypoints_val2017.json': 'test_coco.json',
        'annotations/coco_wholebody_train_v1.0.json':
        'test_coco_wholebody.json',
        'annotations/coco_wholebody_val_v1.0.json':
        'test_coco_wholebody.json',
        'person_detection_results/COCO_val2017_detections_AP_H_56_person.json':
        'test_coco_det_AP_H_56.json',
    }
    for dst, name in links.items():
        (coco / dst).symlink_to(src / name)
    return ws


def run_config_briefly(path, work_dir, overrides=None, width=32):
    """Train one epoch and validate with a narrow network (``width`` hourglass
    channels); return the validation metrics."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(str(path))
    opts = {
        'work_dir': str(work_dir),
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'train_dataloader.batch_size': 2,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint': None,
        'randomness': dict(seed=0),
    }
    if cfg.model.backbone.type == 'StackedHourglass':
        opts['model.backbone.feat_channels'] = width
        if cfg.model.backbone.get('out_type') == 'features':
            opts['model.head.in_channels'] = width  # an MMPose head on top
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{loader}.num_workers'] = 0
        opts[f'{loader}.persistent_workers'] = False
    opts.update(overrides or {})
    cfg.merge_from_dict(opts)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.val_loop.run()
