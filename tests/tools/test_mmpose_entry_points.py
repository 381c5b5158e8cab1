"""MMPose's own entry points - the copies the installed mmpose ships under
mmpose/.mim/{tools,demo} - on our configs and checkpoints, with pictures
written: train.py and test.py (--show-dir), demo/image_demo.py
(--draw-heatmap), MMPoseInferencer, browse_dataset.py, get_flops.py.
Also the two numpy 2.4 breakages the environment pins against."""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import mmpose
import numpy as np
import pytest

from tests.conftest import (REPO, env_without_weights_only_escape,
                            mpii_cfg_options, sample_dir)

MIM = Path(mmpose.__file__).parent / '.mim'
IMAGE = sample_dir('mpii') / '005808361.jpg'


def run(*args, cwd=REPO):
    env = env_without_weights_only_escape()
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True,
                          timeout=600)


def ok(r):
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout + r.stderr


@pytest.fixture(scope='module')
def small(mpii_root, tmp_path_factory):
    """A config file inheriting configs/hg2_mpii_256.py, narrow and pointed
    at the real MPII samples (MMPose's demos take no --cfg-options), and a
    checkpoint trained by MMPose's own tools/train.py on it."""
    tmp = tmp_path_factory.mktemp('entry')
    opts = mpii_cfg_options(mpii_root)
    lines = [f"_base_ = [{str(REPO / 'configs' / 'hg2_mpii_256.py')!r}]",
             'model = dict(backbone=dict(feat_channels=32))',
             'train_cfg = dict(max_epochs=1, val_interval=1)',
             'default_hooks = dict(logger=dict(interval=1))']
    for loader in ('train', 'val', 'test'):
        ds = {k.split('.')[-1]: v for k, v in opts.items()
              if k.startswith(loader)}
        lines.append(f'{loader}_dataloader = dict(batch_size=2, num_workers=0, '
                     f'persistent_workers=False, dataset={ds!r})')
    cfg = tmp / 'hg2_small.py'
    cfg.write_text('\n'.join(lines) + '\n')
    out = ok(run(MIM / 'tools' / 'train.py', cfg, '--work-dir', tmp / 'work',
                 '--show-dir', 'vis'))
    assert 'loss_kpt_stack1' in out
    return cfg, tmp / 'work' / 'epoch_1.pth', tmp


def test_mmpose_test_py_draws_predictions(small, tmp_path):
    cfg, ckpt, _ = small
    out = ok(run(MIM / 'tools' / 'test.py', cfg, ckpt, '--work-dir',
                 tmp_path, '--show-dir', 'vis', '--out', tmp_path / 'm.json'))
    assert 'PCK@0.1' in out and (tmp_path / 'm.json').is_file()
    pictures = list(tmp_path.glob('*/vis/*.jpg'))
    assert len(pictures) == 5
    assert cv2.imread(str(pictures[0])) is not None


def test_our_test_py_takes_mmpose_flags(small, tmp_path):
    cfg, ckpt, _ = small
    ok(run('tools/test.py', cfg, ckpt, '--work-dir', tmp_path, '--show-dir',
           'vis', '--out', tmp_path / 'metrics.json', '--dump',
           tmp_path / 'preds.pkl'))
    import json
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert 'PCK' in metrics and (tmp_path / 'preds.pkl').is_file()
    assert len(list(tmp_path.glob('*/vis/*.jpg'))) == 5
    r = run('tools/test.py', cfg, ckpt, '--work-dir', tmp_path, '--dump',
            tmp_path / 'preds.json')
    assert r.returncode != 0
    assert r.stderr.strip().splitlines()[-1].startswith('error: The dump '
                                                        'file must be a pkl')


def test_image_demo_draws_heatmaps(small, tmp_path):
    cfg, ckpt, _ = small
    out_file = tmp_path / 'demo.jpg'
    ok(run(MIM / 'demo' / 'image_demo.py', IMAGE, cfg, ckpt, '--out-file',
           out_file, '--draw-heatmap', '--device', 'cpu'))
    picture = cv2.imread(str(out_file))
    image = cv2.imread(str(IMAGE))
    # the heatmap panel goes below the image
    assert picture.shape[1] == image.shape[1]
    assert picture.shape[0] == 2 * image.shape[0]


def test_inferencer_writes_visualisation_and_predictions(small, tmp_path):
    cfg, ckpt, _ = small
    code = (
        'import sys\n'
        'from mmpose.apis import MMPoseInferencer\n'
        'inf = MMPoseInferencer(pose2d=sys.argv[1], pose2d_weights=sys.argv[2],'
        ' det_model="whole_image", device="cpu")\n'
        'result = next(inf(sys.argv[3], vis_out_dir=sys.argv[4], '
        'pred_out_dir=sys.argv[4]))\n'
        'print("keypoints:", len(result["predictions"][0][0]["keypoints"]))'
        '\n')
    out = ok(run('-c', code, cfg, ckpt, IMAGE, tmp_path))
    assert 'keypoints: 16' in out.splitlines()
    assert cv2.imread(str(tmp_path / IMAGE.name)) is not None
    assert (tmp_path / f'{IMAGE.stem}.json').is_file()


def test_browse_dataset_and_get_flops(small, tmp_path):
    cfg, _, _ = small
    ok(run(MIM / 'tools' / 'misc' / 'browse_dataset.py', cfg, '--not-show',
           '--output-dir', tmp_path, '--max-item-per-dataset', '2'))
    assert len(list(tmp_path.rglob('*.jpg'))) == 2
    out = ok(run(MIM / 'tools' / 'analysis_tools' / 'get_flops.py', cfg,
                 '--input-shape', '256', '256'))
    assert 'Flops' in out and 'Params' in out


def test_mim_train_mmpose(small, tmp_path):
    """openmim's `mim train mmpose CONFIG` (MMPose's train.py underneath)."""
    import shutil
    cfg, _, _ = small
    mim = shutil.which('mim', path=os.path.dirname(sys.executable))
    assert mim, 'openmim is part of the environment (tools/setup_env.sh)'
    r = subprocess.run([mim, 'train', 'mmpose', str(cfg), '--work-dir',
                        str(tmp_path / 'work'), '-y'], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'Training finished successfully' in r.stdout + r.stderr
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()


def test_numpy_is_below_2_4_and_what_2_4_breaks_works():
    """numpy 2.4 breaks MMPose's visualizer (draw_circles) and xtcocotools'
    mask.decode; the environment pins numpy<2.4 and both must work."""
    from mmpose.visualization import PoseLocalVisualizer
    from xtcocotools import mask
    assert tuple(int(x) for x in np.__version__.split('.')[:2]) < (2, 4)
    vis = PoseLocalVisualizer()
    vis.set_image(np.zeros((64, 64, 3), np.uint8))
    vis.draw_circles(np.array([32.0, 32.0]), np.array([4.0]),
                     edge_colors=(255, 0, 0), face_colors=(255, 0, 0))
    assert vis.get_image().any()
    rle = mask.encode(np.asfortranarray(np.eye(8, dtype=np.uint8)))
    assert (mask.decode(rle) == np.eye(8)).all()


def test_inferencer_refuses_a_checkpoint_of_another_model(small, tmp_path):
    """MMPose's Inferencer loads non-strictly; through our configs a
    checkpoint of another hourglass stops it, naming keys and settings."""
    import torch

    from hg_plugin.models.backbones import StackedHourglass
    cfg, _, _ = small
    wrong = tmp_path / 'hg1.pth'
    net = StackedHourglass(num_stacks=1, feat_channels=32)
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in
                                net.state_dict().items()}), wrong)
    code = (
        'import sys\n'
        'from mmpose.apis import MMPoseInferencer\n'
        'try:\n'
        '    MMPoseInferencer(pose2d=sys.argv[1], pose2d_weights=sys.argv[2],'
        ' det_model="whole_image", device="cpu")\n'
        'except Exception as e:\n'
        '    print("refused:", type(e).__name__, e)\n')
    out = ok(run('-c', code, cfg, wrong))
    line = [x for x in out.splitlines() if x.startswith('refused:')]
    assert line and 'CheckpointMismatchError' in line[0], out[-2000:]
    assert 'missing features.1.' in line[0] and 'num_stacks=1' in line[0]
