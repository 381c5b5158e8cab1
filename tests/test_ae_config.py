"""configs/hg4_ae_coco_512.py: bottom-up Associative Embedding with the
4-stack hourglass trains and evaluates (COCO AP, bottom-up decoding) on the
real COCO samples, with our tools and MMPose's own test.py."""
import subprocess
import sys
from pathlib import Path

import mmpose
from mmengine.config import Config

import hg_plugin  # noqa: F401
from hg_plugin.checks import check_config
from tests.conftest import REPO

AE = REPO / 'configs' / 'hg4_ae_coco_512.py'


def test_shipped_config_is_4_supervised_stacks_of_heatmaps_and_tags():
    """The AE paper's network as the config states it: 4 stacks of the
    f=256, depth-4 hourglass at 512x512, each predicting 17 heatmaps and 17
    tag maps at 128x128, every stack under heatmap MSE + AE loss (weight
    0.001), decoded at the input size."""
    cfg = Config.fromfile(AE)
    assert check_config(cfg) is None
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    model = MODELS.build(cfg.model)
    bb, head = model.backbone, model.head
    assert (bb.num_stacks, bb.depth, bb.hgs[0].up1.conv3.out_channels) == \
        (4, 4, 256)
    assert head.num_stacks == 4 and cfg.model.head.tag_per_keypoint
    assert cfg.model.head.keypoint_loss.type == 'KeypointMSELoss'
    assert cfg.model.head.tag_loss == dict(type='AssociativeEmbeddingLoss',
                                           loss_weight=0.001)
    assert tuple(head.decoder.heatmap_size) == (512, 512)
    import torch
    with torch.no_grad():
        out = model.backbone(torch.zeros(1, 3, 512, 512))
    assert [tuple(o.shape) for o in out] == [(1, 34, 128, 128)] * 4
    # all 34 maps of a stack are re-injected into the next one
    assert [m.in_channels for m in bb.merge_preds] == [34] * 3


def small_config(path):
    path.write_text(f'''
_base_ = [{str(AE)!r}]
codec = dict(type='AssociativeEmbedding', input_size=(256, 256),
             heatmap_size=(64, 64), sigma=2, decode_topk=30,
             decode_center_shift=0.5, decode_max_instances=30,
             decode_keypoint_order=[0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10,
                                    13, 14, 15, 16])
model = dict(backbone=dict(feat_channels=32),
             head=dict(decoder=dict(codec, heatmap_size=codec['input_size'])))
train_cfg = dict(max_epochs=1, val_interval=1)
train_pipeline = [
    dict(type='SeedAugmentation'), dict(type='VerifiedLoadImage'),
    dict(type='BottomupRandomAffine', input_size=codec['input_size']),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='BottomupGetHeatmapMask'), dict(type='PackAEInputs')]
val_pipeline = [
    dict(type='VerifiedLoadImage'),
    dict(type='BottomupResize', input_size=codec['input_size'],
         size_factor=64, resize_mode='expand'),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'crowd_index', 'ori_shape',
                    'img_shape', 'input_size', 'input_center', 'input_scale',
                    'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
                    'skeleton_links'))]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, save_best=None))
''')
    return path


def run(*args, cwd):
    r = subprocess.run([sys.executable, *map(str, args)], cwd=cwd,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout + r.stderr


def test_trains_and_evaluates_bottom_up_on_real_coco(coco_workspace,
                                                     tmp_path):
    cfg = small_config(tmp_path / 'ae_small.py')
    out = run(REPO / 'tools' / 'train.py', cfg, '--work-dir', tmp_path / 'w',
              cwd=coco_workspace)
    for key in ('loss_kpt_stack0', 'loss_pull_stack3', 'loss_push_stack3',
                'coco/AP:', 'coco/AR:'):
        assert key in out, key
    mim_test = Path(mmpose.__file__).parent / '.mim' / 'tools' / 'test.py'
    out = run(mim_test, cfg, tmp_path / 'w' / 'epoch_1.pth', '--work-dir',
              tmp_path / 't', cwd=coco_workspace)
    assert 'coco/AP:' in out and 'Epoch(test)' in out
