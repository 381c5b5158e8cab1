"""A head whose output does not match the codec's targets stops before the
first step with the key to change - under MMPose's own tools/train.py on a
hand-written mix too (the runner's model build runs the check) - and the
README's hand-written recipe trains there."""
import re
import subprocess
import sys
from pathlib import Path

import mmpose
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

import hg_plugin  # noqa: F401  (registers the modules)
from hg_plugin.checks import check_output_shapes
from tests.conftest import REPO

ZOO = (Path(mmpose.__file__).parent / '.mim' / 'configs' / 'body_2d_keypoint'
       / 'topdown_heatmap' / 'coco' / 'td-hm_res50_8xb64-210e_coco-256x192.py')
MMPOSE_TRAIN = Path(mmpose.__file__).parent / '.mim' / 'tools' / 'train.py'


def hourglass_on_simplebaseline(**head):
    cfg = Config.fromfile(str(ZOO))
    cfg.model.backbone = dict(type='StackedHourglass', num_stacks=2,
                              num_keypoints=17, feat_channels=32,
                              out_type='features')
    cfg.model.head.update(dict(dict(in_channels=32), **head))
    init_default_scope('mmpose')
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('head, words', [
    ({}, ['outputs 512x384 heatmaps but the codec expects 64x48',
          'model.head.deconv_out_channels=None']),
    (dict(deconv_out_channels=None, in_channels=64),
     ['cannot take StackedHourglass features', 'model.head.in_channels']),
    (dict(deconv_out_channels=None), None),
])
def test_head_output_against_the_codec(head, words):
    problem = check_output_shapes(hourglass_on_simplebaseline(**head))
    if words is None:
        assert problem is None
    else:
        assert problem and all(w in problem for w in words), problem


def readme_recipe() -> str:
    """The hand-written mix of README.md, pointed at this checkout."""
    text = (REPO / 'README.md').read_text()
    block = re.search(r"```python\n(_base_ = \['mmpose::body_2d_keypoint.*?)"
                      r"```", text, re.S)[1]
    return block.replace('path/to/hg_plugin/configs/', f'{REPO}/configs/')


def mmpose_train(config, cwd, *opts):
    return subprocess.run(
        [sys.executable, str(MMPOSE_TRAIN), str(config), '--work-dir',
         str(cwd / 'work' / config.stem), '--cfg-options',
         'model.backbone.feat_channels=32', 'model.head.in_channels=32',
         'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
         'train_dataloader.batch_size=2', *opts,
         *(f'{loader}.{key}' for loader in ('train_dataloader',
                                            'val_dataloader')
           for key in ('num_workers=0', 'persistent_workers=False'))],
        cwd=cwd, capture_output=True, text=True, timeout=900)


def test_readme_recipe_trains_under_mmpose_train(coco_workspace, tmp_path):
    config = tmp_path / 'my_hourglass.py'
    config.write_text(readme_recipe())
    r = mmpose_train(config, coco_workspace)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'coco/AP' in r.stdout + r.stderr


def test_forgotten_deconvolutions_name_the_key_under_mmpose_train(
        coco_workspace, tmp_path):
    config = tmp_path / 'forgot.py'
    config.write_text(readme_recipe().replace(
        'head=dict(in_channels=256, deconv_out_channels=None)',
        'head=dict(in_channels=256)'))
    assert 'deconv_out_channels' not in config.read_text()
    r = mmpose_train(config, coco_workspace)
    assert r.returncode != 0
    last = [line for line in r.stderr.splitlines() if line.strip()][-1]
    assert 'ModelShapeError' in last and \
        'model.head.deconv_out_channels=None' in last, last
    assert 'must match the size of tensor' not in r.stderr
