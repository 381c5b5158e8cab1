"""tools/infer.py and tools/export_onnx.py on the real sample images."""
import json
import subprocess
import sys

import cv2

from tests.conftest import REPO, sample_dir

NARROW = ['--cfg-options', 'model.backbone.feat_channels=32']


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_infer_on_real_mpii_image_with_random_weights(tmp_path):
    image = sample_dir('mpii') / '005808361.jpg'
    r = run('tools/infer.py', image, '--config', 'configs/hg2_mpii_256.py',
            '--bbox', '750,60,450,700', '--out-dir', tmp_path, *NARROW)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'random weights' in r.stderr  # the warning
    png = cv2.imread(str(tmp_path / '005808361_pose.png'))
    # top: the image scaled to the panel width; bottom: 2 stacks of 256x256
    # (plus a 56-pixel colour bar)
    assert png.shape[1] == 2 * 256 + 56 and png.shape[0] > 256
    out = json.loads((tmp_path / '005808361_keypoints.json').read_text())
    person = out['people'][0]
    assert len(person['keypoints']) == len(out['keypoint_names']) == 16
    x1, y1, x2, y2 = person['bbox_xyxy']
    # the box reaches 40 px below the 720-pixel image: clipped, as MMPose
    assert (x1, y1, x2, y2) == (750, 60, 1200, 720)
    # decoded inside the network's crop: the box made square, padded 1.25x
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, 1.25 * 700 / 2
    tol = 2 * 2 * half / 64  # two heatmap pixels
    for x, y in person['keypoints']:
        assert abs(x - cx) <= half + tol and abs(y - cy) <= half + tol


def test_infer_reads_coco_detections(tmp_path):
    coco = sample_dir('coco')
    r = run('tools/infer.py', coco / '000000000785.jpg', '--config',
            'configs/hg8_coco_256x192.py', '--bbox-file',
            coco / 'test_coco_det_AP_H_56.json', '--out-dir', tmp_path,
            *NARROW)
    assert r.returncode == 0, r.stderr[-3000:]
    dets = [d for d in json.loads(
        (coco / 'test_coco_det_AP_H_56.json').read_text())
        if d['image_id'] == 785 and d['score'] >= 0.3]
    out = json.loads((tmp_path / '000000000785_keypoints.json').read_text())
    assert len(out['people']) == len(dets) >= 1
    assert all(len(p['keypoints']) == 17 for p in out['people'])
    png = cv2.imread(str(tmp_path / '000000000785_pose.png'))
    assert png.shape[1] == 8 * 192 + 56  # 8 stacks side by side, colour bar


def one_line(r):
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), r.stderr
    return lines[0]


def hg1_checkpoint(path):
    """A checkpoint of a 1-stack hourglass (the shipped hg1 config's)."""
    import torch

    from hg_plugin.models.backbones import StackedHourglass
    net = StackedHourglass(num_stacks=1, num_keypoints=16)
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in
                                net.state_dict().items()}), path)
    return path


def test_infer_bad_boxes_are_one_line_before_the_model_loads(tmp_path):
    """Every bad box is refused with the box and the image size, before
    the (here also wrong) checkpoint is looked at; a box that merely
    overlaps the border is clipped, as MMPose does."""
    image = sample_dir('mpii') / '005808361.jpg'
    h, w = cv2.imread(str(image)).shape[:2]
    wrong = hg1_checkpoint(tmp_path / 'hg1.pth')
    base = ['tools/infer.py', image, '--config', 'configs/hg2_mpii_256.py',
            '--checkpoint', wrong, '--out-dir', tmp_path]
    assert 'a box is 4 numbers' in one_line(run(*base, '--bbox', '1,2,3'))
    line = one_line(run(*base, '--bbox', f'{w + 10},5,50,50'))
    assert f'lies outside the {w}x{h} image' in line
    assert 'width and height must be positive' in one_line(
        run(*base, '--bbox', '10,10,0,40'))
    assert 'width and height must be positive' in one_line(
        run(*base, '--bbox', '10,10,-5,40'))
    boxes = tmp_path / 'boxes.json'
    boxes.write_text('[[10, 10, 100]]')
    line = one_line(run(*base, '--bbox-file', boxes))
    assert str(boxes) in line and 'a box is 4 numbers' in line
    boxes.write_text('{not json')
    assert 'cannot read a JSON list of boxes' in one_line(
        run(*base, '--bbox-file', boxes))
    # overlapping the border: clipped, and it runs (random weights)
    r = run('tools/infer.py', image, '--config', 'configs/hg2_mpii_256.py',
            f'--bbox=-20,-20,{w // 2},{h // 2}', '--out-dir', tmp_path,
            *NARROW)
    assert r.returncode == 0, r.stderr[-3000:]
    person = json.loads((tmp_path / '005808361_keypoints.json').read_text()
                        )['people'][0]
    assert person['bbox_xyxy'][:2] == [0.0, 0.0]


def test_a_checkpoint_of_another_model_is_refused(tmp_path):
    """MMPose loads non-strictly: infer and export would run on mostly
    random weights. Both refuse, naming keys and the config that fits."""
    wrong = hg1_checkpoint(tmp_path / 'hg1.pth')
    image = sample_dir('mpii') / '005808361.jpg'
    for r in (run('tools/infer.py', image, '--config',
                  'configs/hg2_mpii_256.py', '--checkpoint', wrong,
                  '--out-dir', tmp_path),
              run('tools/export_onnx.py', 'configs/hg2_mpii_256.py',
                  '--checkpoint', wrong, '--out', tmp_path / 'x.onnx')):
        line = one_line(r)
        assert f'checkpoint {wrong} does not match' in line
        assert 'missing backbone.' in line and 'in all)' in line
        assert 'num_stacks=1' in line and 'configs/hg1_mpii_256.py' in line
    assert not list(tmp_path.glob('*.png')) and not (
        tmp_path / 'x.onnx').exists()


def test_export_onnx_static_and_dynamic_batch(tmp_path):
    """The exported graph computes what the PyTorch model computes: checked
    here with onnxruntime on the real image, the tool's own parity line
    aside, for a static and a dynamic (batch 1 and 2) export."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from mmengine.config import Config
    from mmpose.apis import init_model

    import hg_plugin  # noqa: F401
    from hg_plugin.apis import preprocess_box, stack_heatmaps
    image = sample_dir('mpii') / '052475643.jpg'
    cfg = Config.fromfile(REPO / 'configs' / 'hg2_mpii_256.py')
    cfg.merge_from_dict({'model.backbone.feat_channels': 32})
    torch.manual_seed(0)
    model = init_model(cfg, None, device='cpu')
    ckpt = tmp_path / 'hg2.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    img = cv2.imread(str(image))
    x = preprocess_box(model, img, [0, 0, img.shape[1], img.shape[0]])[0]
    with torch.no_grad():
        expected = [t.numpy() for t in stack_heatmaps(
            model.head, model.backbone(x))]
    for flag in ([], ['--dynamic-batch']):
        out = tmp_path / f'hg2{flag[0] if flag else ""}.onnx'
        r = run('tools/export_onnx.py', 'configs/hg2_mpii_256.py', '--out',
                out, '--image', image, '--checkpoint', ckpt, *flag, *NARROW)
        assert r.returncode == 0, r.stderr[-3000:]
        line = r.stdout.strip().splitlines()[-1]
        assert ('dynamic batch' if flag else 'static batch') in line
        session = ort.InferenceSession(str(out),
                                       providers=['CPUExecutionProvider'])
        batches = [1, 2] if flag else [1]
        for b in batches:
            got = session.run(None, {'input': np.repeat(x.numpy(), b, 0)})
            assert len(got) == len(expected) == 2
            for g, e in zip(got, expected):
                assert g.shape == (b, *e.shape[1:])
                assert np.abs(g - e).max() < 1e-3  # same weights, same maps
    model = onnx.load(str(out))
    assert [o.name for o in model.graph.output] == ['heatmaps_stack1',
                                                    'heatmaps_stack2']
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param \
        == 'batch'


def test_infer_takes_a_folder_skipping_other_files(tmp_path):
    """Non-image files are skipped and counted; images that cannot be read
    (0 bytes, a text file named .jpg) are skipped and named in one warning
    line after the rest are processed; the exit status is 0."""
    folder = tmp_path / 'in'
    folder.mkdir()
    for name in ('005808361.jpg', '052475643.jpg'):
        (folder / name).write_bytes((sample_dir('mpii') / name).read_bytes())
    (folder / 'notes.txt').write_text('not an image')
    (folder / '000_empty.jpg').write_bytes(b'')
    (folder / 'zz_text.jpg').write_text('a text file named .jpg')
    out = tmp_path / 'out'
    r = run('tools/infer.py', folder, '--config', 'configs/hg2_mpii_256.py',
            '--out-dir', out, *NARROW)
    assert r.returncode == 0, r.stderr[-3000:]
    warnings = [line for line in r.stderr.splitlines()
                if line.startswith('warning: ') and 'skipped' in line]
    assert warnings == [
        f'warning: {folder}: skipped 1 non-image file(s) (e.g. notes.txt)',
        f'warning: {folder}: skipped 2 image(s) that cannot be read: '
        f'{folder / "000_empty.jpg"}, {folder / "zz_text.jpg"}']
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(
        '.')) == ['005808361_keypoints.json', '005808361_pose.png',
                  '052475643_keypoints.json', '052475643_pose.png']
    assert '2 images' in r.stdout
    # a second run rewrites its own pictures without --force
    r = run('tools/infer.py', folder, '--config', 'configs/hg2_mpii_256.py',
            '--out-dir', out, *NARROW)
    assert r.returncode == 0, r.stderr[-3000:]
    # a folder with no readable image at all: one error line, exit 1
    bad = tmp_path / 'bad'
    bad.mkdir()
    (bad / 'a.jpg').write_bytes(b'')
    r = run('tools/infer.py', bad, '--config', 'configs/hg2_mpii_256.py',
            '--out-dir', tmp_path / 'out2', *NARROW)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == \
        f'error: {bad}: none of its 1 images can be read (e.g. {bad / "a.jpg"})'


def test_infer_takes_a_video_one_picture_per_frame(tmp_path):
    import numpy as np
    img = cv2.imread(str(sample_dir('mpii') / '005808361.jpg'))
    h, w = img.shape[:2]
    video = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (w, h))
    for shift in (0, 4, 8):
        writer.write(np.roll(img, shift, axis=1))
    writer.release()
    out = tmp_path / 'out'
    r = run('tools/infer.py', video, '--config', 'configs/hg2_mpii_256.py',
            '--out-dir', out, *NARROW)
    assert r.returncode == 0, r.stderr[-3000:]
    assert '3 frames' in r.stdout
    names = sorted(p.name for p in out.glob('*_pose.png'))
    assert names == ['clip_0_pose.png', 'clip_1_pose.png', 'clip_2_pose.png']
    keypoints = json.loads((out / 'clip_1_keypoints.json').read_text())
    assert keypoints['name'] == 'clip_1' and len(keypoints['people']) == 1
