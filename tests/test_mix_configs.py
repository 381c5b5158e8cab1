"""The hourglass inside other MMPose configs: every configs/mix/ config, MMPose
heads on the backbone's features, UDP and DARK codecs, other keypoint sets,
and MMPose's own tools/train.py - each trained a step and validated on the
real COCO samples."""
import math
import subprocess
import sys
from pathlib import Path

import mmpose
import pytest

from tests.conftest import REPO, run_config_briefly

MIX = sorted((REPO / 'configs' / 'mix').glob('*.py'))
COCO_256x192 = REPO / 'configs' / 'hg8_coco_256x192.py'


def finite(metrics):
    return metrics and all(math.isfinite(v) for v in metrics.values())


@pytest.mark.parametrize('path', MIX, ids=lambda p: p.name)
def test_mix_config_trains_and_validates(path, coco_workspace, monkeypatch,
                                         tmp_path):
    monkeypatch.chdir(coco_workspace)
    assert finite(run_config_briefly(path, tmp_path)), path.name


def pipelines(codec, use_udp=False):
    affine = dict(type='TopdownAffine', input_size=codec['input_size'],
                  use_udp=use_udp)
    train = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
             dict(type='RandomFlip', direction='horizontal'), affine,
             dict(type='GenerateTarget', encoder=codec),
             dict(type='PackPoseInputs')]
    val = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'), affine,
           dict(type='PackPoseInputs')]
    return {'train_dataloader.dataset.pipeline': train,
            'val_dataloader.dataset.pipeline': val}


@pytest.mark.parametrize('codec_name', ['udp', 'dark'])
def test_udp_and_dark_codecs(codec_name, coco_workspace, monkeypatch,
                             tmp_path):
    monkeypatch.chdir(coco_workspace)
    size = dict(input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
    if codec_name == 'udp':
        codec = dict(type='UDPHeatmap', **size)
        overrides = pipelines(codec, use_udp=True)
        overrides['model.test_cfg.shift_heatmap'] = False  # UDP flip rule
    else:
        codec = dict(type='MSRAHeatmap', unbiased=True, blur_kernel_size=11,
                     **size)
        overrides = pipelines(codec)
    overrides['model.head.decoder'] = codec
    assert finite(run_config_briefly(COCO_256x192, tmp_path, overrides))


@pytest.mark.parametrize('head', ['HeatmapHead', 'CPMHead'])
def test_mmpose_heads_on_hourglass_features(head, coco_workspace, monkeypatch,
                                            tmp_path):
    monkeypatch.chdir(coco_workspace)
    width = 32
    head_cfg = dict(type=head, in_channels=width, out_channels=17,
                    deconv_out_channels=None,
                    loss=dict(type='KeypointMSELoss', use_target_weight=True),
                    decoder=dict(type='MSRAHeatmap', input_size=(192, 256),
                                 heatmap_size=(48, 64), sigma=2))
    if head == 'CPMHead':
        head_cfg['num_stages'] = 8
    overrides = {'model.backbone.out_type': 'features',
                 'model.head': dict(_delete_=True, **head_cfg)}
    assert finite(run_config_briefly(COCO_256x192, tmp_path, overrides, width))


def test_mmposes_own_train_script_runs_a_plugin_config(coco_workspace,
                                                        tmp_path):
    """custom_imports in the config is all MMPose's tools/train.py needs."""
    mmpose_train = Path(mmpose.__file__).parent / '.mim' / 'tools' / 'train.py'
    config = REPO / 'configs' / 'mix' / 'hg2_coco-wholebody-hand_256x256.py'
    opts = ['model.backbone.feat_channels=16', 'train_cfg.max_epochs=1',
            'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    r = subprocess.run(
        [sys.executable, str(mmpose_train), str(config), '--work-dir',
         str(tmp_path), '--cfg-options', *opts], cwd=coco_workspace,
        capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'loss_kpt_stack1' in r.stdout + r.stderr
    assert (tmp_path / 'epoch_1.pth').is_file()
