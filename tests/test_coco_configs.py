"""COCO configs train a few iterations and evaluate end to end on the 4 real
COCO val images through MMPose's CocoDataset, pipeline and CocoMetric, with
ground-truth boxes and with the detection-box file."""
import math

import pytest

from tests.conftest import REPO, run_config_briefly

CONFIGS = REPO / 'configs'


@pytest.mark.parametrize('name', ['hg8_coco_256x192', 'hg8_coco_256x256'])
@pytest.mark.parametrize('boxes', ['detections', 'ground_truth'])
def test_coco_config_trains_and_evaluates(name, boxes, coco_workspace,
                                          monkeypatch, tmp_path):
    monkeypatch.chdir(coco_workspace)
    overrides = {}
    if boxes == 'ground_truth':
        overrides = {'val_dataloader.dataset.bbox_file': None}
    metrics = run_config_briefly(CONFIGS / f'{name}.py', tmp_path, overrides)
    for key in ('coco/AP', 'coco/AP .5', 'coco/AP .75', 'coco/AR'):
        assert math.isfinite(metrics[key]), metrics


@pytest.mark.parametrize('name', ['hg8_coco_384x288', 'hg8_mpii_384'])
def test_high_resolution_config_runs_a_training_step(name, coco_workspace,
                                                     mpii_root, monkeypatch,
                                                     tmp_path):
    overrides = {}
    if 'coco' in name:
        monkeypatch.chdir(coco_workspace)
    else:
        from tests.conftest import mpii_cfg_options
        overrides = mpii_cfg_options(mpii_root)
    metrics = run_config_briefly(CONFIGS / f'{name}.py', tmp_path, overrides,
                                 width=16)
    key = 'coco/AP' if 'coco' in name else 'PCK'  # the config's own metric
    assert math.isfinite(metrics[key]), metrics


def test_missing_coco_is_one_clear_line(tmp_path):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'),
                        str(CONFIGS / 'hg8_coco_256x192.py')], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert 'data/coco/annotations/person_keypoints_train2017.json' in lines[0]
    assert 'COCO' in lines[0]
