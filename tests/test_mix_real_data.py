"""Mixed configs of three more MMPose families, trained a few iterations and
evaluated with their own metric on the real COCO sample images: COCO-
WholeBody-Face (NME), AP-10K animal layout (COCO-style AP) and bottom-up
DEKR (COCO AP with its own decoding). The annotation files are MMPose's
documented formats made from the samples' COCO annotations: the face keypoints
are real; the AP-10K file carries the people's 17 COCO keypoints under an
animal category, which exercises the format and metric, not animal
semantics."""
import json
import subprocess
import sys

import pytest

from hg_plugin.mix import write_mixed_config
from tests.conftest import REPO

QUICK = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
         'default_hooks.logger.interval=1', 'randomness.seed=0']


def loaders(batch=2):
    opts = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    return opts + [f'train_dataloader.batch_size={batch}']


def train(config, cwd, *opts):
    work = cwd / 'work' / config.stem  # one per config: no run overwritten
    r = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'),
                        str(config), '--work-dir', str(work),
                        '--cfg-options', *QUICK, *loaders(), *opts],
                       cwd=cwd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-3000:]
    return r.stdout + r.stderr


def mixed(base, tmp_path, name, **kwargs):
    out = tmp_path / name
    write_mixed_config(base, str(out), num_stacks=2, feat_channels=32,
                       **kwargs)
    return out


def test_face_coco_wholebody_nme(coco_workspace, tmp_path):
    cfg = mixed('mmpose::face_2d_keypoint/topdown_heatmap/coco_wholebody_face/'
                'td-hm_hrnetv2-w18_8xb32-60e_coco-wholebody-face-256x256.py',
                tmp_path, 'hg2_face.py')
    log = train(cfg, coco_workspace)
    assert 'loss_kpt_stack1' in log
    assert 'NME:' in log


@pytest.fixture
def ap10k_workspace(coco_workspace, tmp_path):
    """data/ap10k/ in MMPose's AP-10K layout, from the COCO samples."""
    from mmpose.datasets.datasets.animal import AP10KDataset
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = parse_pose_metainfo(AP10KDataset.METAINFO)
    coco = json.loads((coco_workspace / 'data' / 'coco' / 'annotations' /
                       'person_keypoints_val2017.json').read_text())
    coco['categories'] = [dict(
        id=1, name='dog', supercategory='Canidae',
        keypoints=[meta['keypoint_id2name'][i] for i in range(17)],
        skeleton=[[a + 1, b + 1] for a, b in meta['skeleton_links']])]
    root = tmp_path / 'data' / 'ap10k'
    (root / 'annotations').mkdir(parents=True)
    for split in ('train', 'val', 'test'):
        (root / 'annotations' / f'ap10k-{split}-split1.json').write_text(
            json.dumps(coco))
    (root / 'data').symlink_to(coco_workspace / 'data' / 'coco' / 'val2017',
                               target_is_directory=True)
    return tmp_path


def test_animal_ap10k_coco_ap(ap10k_workspace, tmp_path):
    cfg = mixed('mmpose::animal_2d_keypoint/topdown_heatmap/ap10k/'
                'td-hm_hrnet-w32_8xb64-210e_ap10k-256x256.py', tmp_path,
                'hg2_ap10k.py')
    log = train(cfg, ap10k_workspace)
    assert 'loss_kpt_stack1' in log
    assert 'coco/AP:' in log


def test_bottom_up_dekr_coco_ap(coco_workspace, tmp_path):
    cfg = mixed('mmpose::body_2d_keypoint/dekr/coco/'
                'dekr_hrnet-w32_8xb10-140e_coco-512x512.py', tmp_path,
                'hg2_dekr.py')
    assert 'model.head.rescore_cfg.init_cfg loads pretrained weights' in \
        cfg.read_text()  # the tool says so; nothing is downloaded here
    log = train(cfg, coco_workspace, 'model.head.rescore_cfg.init_cfg=None')
    assert 'loss/heatmap' in log or 'loss_heatmap' in log or 'loss' in log
    assert 'coco/AP:' in log
