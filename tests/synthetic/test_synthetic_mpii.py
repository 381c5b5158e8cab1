import json

import numpy as np
from mmpose.datasets import MpiiDataset
from scipy.io import loadmat

from hg_plugin.synthetic import make_synthetic_mpii


def test_generated_dataset_loads_in_mmpose(tmp_path):
    paths = make_synthetic_mpii(str(tmp_path), num_train=6, num_val=4,
                                image_size=160, seed=3)
    train = json.load(open(paths['train']))
    val = json.load(open(paths['val']))
    assert len(train) == 6 and len(val) == 4
    assert not {r['image'] for r in train} & {r['image'] for r in val}
    assert loadmat(paths['headbox'])['headboxes_src'].shape == (2, 2, 4)
    ds = MpiiDataset(
        data_root=str(tmp_path), ann_file='annotations/mpii_val.json',
        data_prefix=dict(img='images/'), headbox_file=paths['headbox'],
        test_mode=True, pipeline=[])
    assert len(ds) == 4
    item = ds[0]
    assert item['keypoints'].shape == (1, 16, 2)
    # joints inside the image, head size = 0.6 * head-box diagonal
    assert (item['keypoints'] >= 0).all() and (item['keypoints'] < 160).all()
    joints = np.array(val[0]['joints'])
    seg = np.linalg.norm(joints[9] - joints[8])
    np.testing.assert_allclose(item['head_size'], 0.6 * np.sqrt(2) * seg,
                               rtol=1e-3)


def test_generation_is_deterministic(tmp_path):
    a = make_synthetic_mpii(str(tmp_path / 'a'), 3, 2, seed=7)
    b = make_synthetic_mpii(str(tmp_path / 'b'), 3, 2, seed=7)
    assert open(a['train']).read() == open(b['train']).read()


def test_right_limbs_are_on_the_image_left(tmp_path):
    """The frontal convention that keeps labels consistent under flips."""
    paths = make_synthetic_mpii(str(tmp_path), 50, 1, seed=1)
    for rec in json.load(open(paths['train'])):
        j = np.array(rec['joints'])
        assert j[12, 0] < j[13, 0] and j[2, 0] < j[3, 0]  # shoulders, hips


def test_hard_setting_labels_truncation_and_occlusion(tmp_path):
    """The hard set: reproducible for its seed, records that pass the record
    check and load in MMPose; joints outside the image unlabelled, covered
    joints labelled and flagged in joints_occluded, other figures and
    truncation present in a few dozen images."""
    import cv2

    from hg_plugin.checks.records import check_mpii_file
    a = make_synthetic_mpii(str(tmp_path / 'a'), 60, 10, 128, seed=5,
                            difficulty='hard')
    b = make_synthetic_mpii(str(tmp_path / 'b'), 60, 10, 128, seed=5,
                            difficulty='hard')
    ra, rb = (json.load(open(p['train'])) for p in (a, b))
    assert ra == rb
    assert not check_mpii_file(a['train'], 16, str(tmp_path / 'a' / 'images'),
                               None)
    truncated = occluded = 0
    for r in ra:
        j, vis = np.array(r['joints']), np.array(r['joints_vis'])
        inside = ((j >= 0) & (j <= 127)).all(1)
        assert (vis == inside).all()
        assert not np.array(r['joints_occluded'])[~inside].any()
        truncated += (~inside).any()
        occluded += np.array(r['joints_occluded']).any()
    assert 5 <= truncated < 45 and 20 <= occluded < 60, (truncated, occluded)
    img = cv2.imread(str(tmp_path / 'a' / 'images' / ra[0]['image']))
    assert img.shape == (128, 128, 3) and img.std() > 20  # textured
    ds = MpiiDataset(
        data_root=str(tmp_path / 'a'), ann_file='annotations/mpii_val.json',
        data_prefix=dict(img='images/'), headbox_file=a['headbox'],
        test_mode=True, pipeline=[])
    assert len(ds) == 10
