import json
import os
import platform
import socket
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# no version check over the network when albumentations is imported (here
# and in every tool the tests start); hg_plugin sets the same default
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
DATA = REPO / 'tests' / 'data'  # real samples, see tests/data/README.md
# `make test` runs one pytest process per core (pytest-xdist): each, and
# the tools it starts, computes on one thread, so the processes share the
# cores instead of each taking all of them
if 'PYTEST_XDIST_WORKER' in os.environ:
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = '1'
    import torch
    torch.set_num_threads(1)


_START = time.time()


def pytest_sessionfinish(session, exitstatus):
    """``HG_RECORD_TEST_RUN=docs/test_run.json make test``: after a run of
    the whole suite, record its counts and time there (README's number;
    tools/docs_numbers.py). The controller process writes it."""
    path = os.environ.get('HG_RECORD_TEST_RUN')
    if not path or hasattr(session.config, 'workerinput'):
        return
    if session.config.option.keyword or session.config.option.markexpr:
        return  # a selection, not the suite
    stats = session.config.pluginmanager.get_plugin('terminalreporter').stats
    with open(path, 'w') as f:
        json.dump(dict(
            **{k: len([r for r in stats.get(k, [])
                       if getattr(r, 'when', 'call') in ('call', 'setup')])
               for k in ('passed', 'failed', 'skipped', 'deselected')},
            seconds=round(time.time() - _START, 1),
            workers=getattr(session.config.option, 'numprocesses', 0) or 0,
            machine=f'{os.cpu_count()} CPU cores '
            f'({platform.processor() or platform.machine()})',
            date=time.strftime('%Y-%m-%d'),
            load=round(os.getloadavg()[0], 1)), f, indent=1)
        f.write('\n')


def sample_dir(name: str) -> Path:
    """``tests/data/<name>``: the real MPII or COCO samples shipped with
    the repository."""
    path = DATA / name
    assert path.is_dir(), f'{path} is missing from this checkout'
    return path


def free_port() -> str:
    """A TCP port nobody listens on now (the OS picks it), for a torchrun
    rendezvous: fixed ports collide when two suites share a machine."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def env_without_weights_only_escape() -> dict:
    """This process's environment minus torch's TORCH_FORCE_* switches, so
    that a subprocess loads checkpoints with torch's own defaults."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith('TORCH_FORCE')}


def mpii_records():
    """The real MPII annotations of tests/data/mpii."""
    return json.loads((sample_dir('mpii') / 'test_mpii.json').read_text())


def make_mpii_root(root: Path, records, images=None) -> Path:
    """MMPose's MPII layout at ``root``: annotations/mpii_{train,val}.json
    (both ``records``), mpii_gt_val.mat (head boxes written with
    scipy.io.savemat), and images/: a link to the real samples, or the files
    given as ``{name: bytes}``."""
    from hg_plugin.datasets import approx_head_boxes, write_headboxes
    (root / 'annotations').mkdir(parents=True)
    if images is None:
        (root / 'images').symlink_to(sample_dir('mpii'),
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
    src = sample_dir('coco')
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
