"""Every config in configs/ parses (mmpose:: bases resolve) and builds."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpose.registry import MODELS

CONFIGS = sorted(str(p) for p in (Path(__file__).parents[1] / 'configs')
                 .rglob('*.py') if '_base_' not in p.parts)


def test_configs_exist():
    names = {Path(c).name for c in CONFIGS}
    assert {'hg1_mpii_256.py', 'hg2_mpii_256.py', 'hg4_mpii_256.py',
            'hg8_mpii_256.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: Path(p).name)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    assert cfg.custom_imports.imports == ['hg_plugin']
    model = MODELS.build(cfg.model).eval()
    backbone, head = cfg.model.backbone, cfg.model.head
    stacks = head.get('num_stacks', head.get('num_stages'))
    assert backbone.num_stacks == stacks
    if 'stack_weights' in head.get('loss', {}):
        assert len(head.loss.stack_weights) == stacks
    w, h = cfg.codec.input_size
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, 3, h, w))
        out = model.head.forward(feats)
    assert len(feats) == backbone.num_stacks
    if head.type == 'StackedAEHead':  # bottom-up: the last stack's maps
        heatmaps, tags = out
        assert heatmaps.shape[1:] == (head.num_keypoints,
                                      *cfg.codec.heatmap_size[::-1])
        assert tags.shape == heatmaps.shape
        return
    assert len(out) == backbone.num_stacks
    assert out[-1].shape[1:] == (head.out_channels,
                                 *cfg.codec.heatmap_size[::-1])


def test_hg8_follows_the_paper_recipe():
    cfg = Config.fromfile([c for c in CONFIGS if c.endswith('hg8_mpii_256.py')][0])
    assert cfg.optim_wrapper.optimizer == dict(type='RMSprop', lr=2.5e-4)
    aug = {t.type: t for t in cfg.train_pipeline}
    assert aug['RandomBBoxTransform'].rotate_factor == 30
    assert aug['RandomBBoxTransform'].scale_factor == (0.75, 1.25)
    assert aug['RandomFlip'].direction == 'horizontal'
    assert cfg.codec.heatmap_size == (64, 64) and cfg.codec.sigma == 1
    assert cfg.model.test_cfg.flip_test and cfg.model.test_cfg.shift_heatmap
    assert cfg.val_evaluator.type == 'MpiiPCKAccuracy'
    assert cfg.default_hooks.checkpoint.save_best == 'PCK'
