"""check_config: what tools/mix_config.py fixes, caught in a hand-written
config, each as one line naming the key and the value to set."""
import pytest
from mmengine.config import Config

from hg_plugin.checks import check_config


def cfg(head=None, neck=None, backbone=None, pipeline=()):
    bb = dict(type='StackedHourglass', num_stacks=2, num_keypoints=17,
              feat_channels=256, depth=4)
    bb.update(backbone or {})
    codec = dict(type='MSRAHeatmap', input_size=(192, 256),
                 heatmap_size=(48, 64), sigma=2)
    return Config(dict(
        model=dict(backbone=bb, neck=neck,
                   head=head or dict(type='StackedHeatmapHead', num_stacks=2,
                                     out_channels=17, decoder=codec)),
        val_dataloader=dict(dataset=dict(type='CocoDataset',
                                         pipeline=list(pipeline)))))


def test_a_consistent_config_passes():
    assert check_config(cfg()) is None


@pytest.mark.parametrize('kwargs, expected', [
    (dict(neck=dict(type='FeatureMapProcessor', concat=True)),
     'model.neck (FeatureMapProcessor) sits between StackedHourglass and '
     'StackedHeatmapHead, which takes the per-stack heatmaps as they are: '
     'set model.neck=None'),
    (dict(backbone=dict(out_type='features'),
          neck=dict(type='FeatureMapProcessor', select_index=0),
          head=dict(type='HeatmapHead', in_channels=256, out_channels=17)),
     'model.neck (FeatureMapProcessor) selects/concatenates the branches of '
     'a multi-branch backbone; StackedHourglass has one: set model.neck=None'),
    (dict(backbone=dict(out_type='features'),
          head=dict(type='RTMCCHead', in_channels=256, out_channels=17,
                    in_featuremap_size=(6, 8),
                    decoder=dict(type='SimCCLabel', input_size=(192, 256)))),
     'model.head.in_featuremap_size=(6, 8) but StackedHourglass outputs '
     '(48, 64) (input_size / 4): set model.head.in_featuremap_size=(48, 64)'),
    (dict(backbone=dict(out_type='features'),
          head=dict(type='HeatmapHead', in_channels=32, out_channels=17)),
     "model.head.in_channels=32 but StackedHourglass(out_type='features') "
     'gives 256-channel features: set model.head.in_channels=256'),
    (dict(pipeline=[dict(type='LoadImage'),
                    dict(type='BottomupResize', input_size=(512, 512),
                         size_factor=32)]),
     'val_dataloader.dataset.pipeline[1] (BottomupResize) size_factor=32: '
     'StackedHourglass(depth=4) halves the input 4 times after the /4 stem: '
     'set size_factor=64 (a multiple of 64)'),
])
def test_what_the_mix_tool_fixes_is_one_line(kwargs, expected):
    assert check_config(cfg(**kwargs)) == expected


def test_num_stacks_message_only_when_they_disagree():
    good = cfg()
    assert 'num_stacks' not in (check_config(good) or '')
    bad = cfg(head=dict(type='StackedHeatmapHead', num_stacks=3,
                        out_channels=17))
    assert check_config(bad).startswith('model.head.num_stacks=3 but '
                                        'model.backbone.num_stacks=2')


def test_a_pyramid_neck_with_other_channels_is_one_line():
    from mmengine.config import Config as _Config

    from hg_plugin.checks import check_config as _check
    cfg = _Config(dict(model=dict(
        type='BottomupPoseEstimator',
        backbone=dict(type='StackedHourglass', num_stacks=2,
                      num_keypoints=17, feat_channels=32, depth=3,
                      out_type='pyramid', out_channels=[64, 128, 256]),
        neck=dict(type='YOLOXPAFPN', in_channels=[128, 256, 512],
                  out_channels=128),
        head=dict(type='YOLOXPoseHead', num_keypoints=17))))
    problem = _check(cfg)
    assert problem == (
        "model.neck.in_channels=[128, 256, 512] but StackedHourglass("
        "out_type='pyramid') gives [64, 128, 256] channels at strides "
        "(8, 16, 32): set model.backbone.out_channels=[128, 256, 512] (one "
        "per stride)")
    cfg.model.backbone.out_channels = [128, 256, 512]
    assert _check(cfg) is None
