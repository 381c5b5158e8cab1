"""Top-down pose inference on an image, a folder of images or a video,
through MMPose's own APIs (as MMPoseInferencer takes them).

    python tools/infer.py INPUT --config CFG [--checkpoint CKPT]
        [--bbox x,y,w,h | --bbox-file boxes.json] [--out-dir DIR] [--force]

INPUT: an image, a folder (its images in name order; other files are
skipped and counted in one warning line, and so are images that cannot be
read - empty, truncated, not an image - named in one warning line at the
end) or a video (every frame). Exit status: 0 when every readable image
was processed (some folder images may have been skipped, as said), 1 on
an error line (a single unreadable image, a folder without one readable
image, a bad box). For each
image or frame it writes DIR/<name>_pose.png (skeletons, and for the first
person every stack's heatmaps side by side: the refinement across stacks)
and DIR/<name>_keypoints.json; a video's frames are named
<video>_<frame number>. Outputs never replace an input, nor a file this
tool did not write (unless --force). Without --checkpoint the weights are
random (a warning says so): for smoke tests only.
"""
import argparse
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import torch
from _cli import guard_outputs, init_or_exit, record_outputs
from mmengine.config import Config, DictAction
from mmpose.apis import inference_topdown
from mmpose.structures import merge_data_samples
from mmpose.visualization import PoseLocalVisualizer

from hg_plugin.apis import preprocess_box, stack_heatmaps

TOOL = 'tools/infer.py'


def parse_args():
    p = argparse.ArgumentParser(description='Top-down pose inference')
    p.add_argument('input', help='an image, a folder of images or a video')
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint')
    box = p.add_mutually_exclusive_group()
    box.add_argument('--bbox', help='one person box x,y,w,h (pixels)')
    box.add_argument('--bbox-file', help='JSON: [[x,y,w,h], ...] or COCO '
                     'detections [{"image_id", "bbox", "score"}, ...]')
    p.add_argument('--bbox-thr', type=float, default=0.3,
                   help='minimum detection score in --bbox-file')
    p.add_argument('--out-dir', default='work_dirs/infer')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available()
                   else 'cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings, key=value')
    p.add_argument('--force', action='store_true',
                   help='overwrite files in --out-dir this tool did not write')
    return p.parse_args()


def checked_boxes(xywh, img_shape, source) -> np.ndarray:
    """(N, 4) xyxy boxes: each 4 finite numbers with positive width and
    height that overlap the image; clipped to the image as MMPose does with
    detections. Anything else exits with one line naming box and image."""
    h, w = img_shape[:2]
    boxes = []
    for i, box in enumerate(xywh):
        where = f'{source} box {i} {box!r}'
        try:
            x, y, bw, bh = (float(v) for v in box)
        except (TypeError, ValueError):
            sys.exit(f'error: {where}: a box is 4 numbers x,y,w,h')
        if not np.isfinite([x, y, bw, bh]).all() or bw <= 0 or bh <= 0:
            sys.exit(f'error: {where}: width and height must be positive '
                     'finite numbers (boxes are x,y,w,h, not x1,y1,x2,y2)')
        x1, y1 = max(x, 0.0), max(y, 0.0)
        x2, y2 = min(x + bw, float(w)), min(y + bh, float(h))
        if x2 <= x1 or y2 <= y1:
            sys.exit(f'error: {where} lies outside the {w}x{h} image')
        boxes.append([x1, y1, x2, y2])
    return np.array(boxes, dtype=np.float32).reshape(-1, 4)


def load_boxes(args, name, img_shape) -> np.ndarray:
    """Person boxes as (N, 4) xyxy for image ``name``, checked against
    the image."""
    if args.bbox:
        return checked_boxes([args.bbox.split(',')], img_shape, '--bbox')
    if not args.bbox_file:
        h, w = img_shape[:2]
        return checked_boxes([[0, 0, w, h]], img_shape, 'whole image')
    try:
        with open(args.bbox_file) as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f'error: --bbox-file {args.bbox_file}: cannot read a JSON '
                 f'list of boxes ({e})')
    if not isinstance(entries, list):
        sys.exit(f'error: --bbox-file {args.bbox_file}: expected a JSON list '
                 '[[x,y,w,h], ...] or COCO detections [{"image_id", "bbox", '
                 f'"score"}}, ...], got {type(entries).__name__}')
    stem = osp.splitext(osp.basename(name))[0]
    xywh = []
    for e in entries:
        if isinstance(e, dict):
            if 'bbox' not in e:
                sys.exit(f'error: --bbox-file {args.bbox_file}: detection '
                         f'{e!r} has no "bbox"')
            if stem.isdigit() and 'image_id' in e and \
                    e['image_id'] != int(stem):
                continue
            if e.get('score', 1.0) < args.bbox_thr:
                continue
            e = e['bbox']
        xywh.append(e)
    if not xywh:
        sys.exit(f'error: no box for {name} in {args.bbox_file}')
    return checked_boxes(xywh, img_shape, args.bbox_file)


def box_heatmaps(model, img, box) -> tuple:
    """Every stack's (K, h, w) heatmaps and the network's input crop for one
    box, through the config's own test pipeline."""
    inputs, data = preprocess_box(model, img, box)
    with torch.no_grad():
        stacks = stack_heatmaps(model.head, model.extract_feat(inputs))
    crop = data['inputs'].permute(1, 2, 0).numpy().astype(np.uint8).copy()
    return [s[0].cpu().numpy() for s in stacks], crop


def draw_people(model, img, results) -> np.ndarray:
    """Skeletons, keypoints and boxes drawn by MMPose's PoseLocalVisualizer
    with the dataset's colours; each person's mean keypoint score beside
    its box."""
    vis = PoseLocalVisualizer(radius=4, line_width=2)
    vis.set_dataset_meta(model.dataset_meta)
    rgb = img[..., ::-1].copy()
    vis.add_datasample('people', rgb, merge_data_samples(results),
                       draw_gt=False, draw_bbox=True, draw_heatmap=False,
                       kpt_thr=0.0, show=False)
    out = vis.get_image()
    for r in results:
        x1, y1 = r.pred_instances.bboxes[0][:2]
        score = float(np.mean(r.pred_instances.keypoint_scores[0]))
        cv2.putText(out, f'{score:.2f}', (int(x1) + 2, int(y1) + 16),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2,
                    cv2.LINE_AA)
    return out[..., ::-1]


def heatmap_panel(stacks, crop, names) -> np.ndarray:
    """Every stack's heatmaps (max over joints) over the network's input
    crop, one tile per stack, each joint's peak labelled with its name, and
    a colour bar of the heatmap values (one scale for all stacks)."""
    top = max(float(hm.max()) for hm in stacks)
    low = min(float(hm.min()) for hm in stacks)
    tiles = []
    for i, hm in enumerate(stacks):
        heat = 255 * (hm.max(0) - low) / (top - low + 1e-6)
        heat = cv2.applyColorMap(heat.clip(0, 255).astype(np.uint8),
                                 cv2.COLORMAP_JET)
        heat = cv2.resize(heat, crop.shape[1::-1])
        tile = cv2.addWeighted(crop, 0.4, heat, 0.6, 0)
        sy, sx = crop.shape[0] / hm.shape[1], crop.shape[1] / hm.shape[2]
        for k, name in enumerate(names):
            y, x = np.unravel_index(np.argmax(hm[k]), hm[k].shape)
            cv2.putText(tile, name, (int(x * sx), int(y * sy)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.3, (255, 255, 255), 1,
                        cv2.LINE_AA)
        cv2.putText(tile, f'stack {i + 1}', (4, 16), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    h = crop.shape[0]
    ramp = np.linspace(255, 0, h).astype(np.uint8)[:, None].repeat(12, 1)
    bar = np.zeros((h, 56, 3), np.uint8)
    bar[:, :12] = cv2.applyColorMap(ramp, cv2.COLORMAP_JET)
    for y, value in ((10, top), (h - 4, low)):
        cv2.putText(bar, f'{value:.2f}', (14, y), cv2.FONT_HERSHEY_SIMPLEX,
                    0.33, (255, 255, 255), 1, cv2.LINE_AA)
    return np.hstack([*tiles, bar])


def draw(model, img, results, stacks, crop) -> np.ndarray:
    """The people on top, scaled to the width of the heatmap panel below."""
    meta = model.dataset_meta
    names = [meta['keypoint_id2name'][i] for i in range(meta['num_keypoints'])]
    panel = heatmap_panel(stacks, crop, names)
    people = draw_people(model, img, results)
    scale = panel.shape[1] / people.shape[1]
    top = cv2.resize(people, (panel.shape[1], int(people.shape[0] * scale)))
    return np.vstack([top, panel])


IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg')


def list_inputs(path: str):
    """(kind, items): 'images' with a list of (name, file), or 'video' with
    its frame count. A folder's non-image files are skipped with one
    warning line; an input that is none of these exits with one line."""
    if osp.isdir(path):
        files = sorted(f for f in os.listdir(path)
                       if osp.isfile(osp.join(path, f)))
        images = [f for f in files if f.lower().endswith(IMAGE_EXTS)]
        others = [f for f in files if f not in images]
        if others:
            print(f'warning: {path}: skipped {len(others)} non-image '
                  f'file(s) (e.g. {others[0]})', file=sys.stderr)
        if not images:
            sys.exit(f'error: {path}: no images in the folder (looked for '
                     f'{", ".join(IMAGE_EXTS)})')
        return 'images', [(osp.splitext(f)[0], osp.join(path, f))
                          for f in images]
    if not osp.isfile(path):
        sys.exit(f'error: input not found: {path}')
    if path.lower().endswith(VIDEO_EXTS):
        video = cv2.VideoCapture(path)
        count = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
        video.release()
        if count <= 0:
            sys.exit(f'error: cannot read video {path}')
        return 'video', count
    return 'images', [(osp.splitext(osp.basename(path))[0], path)]


def frames(path: str, kind: str, items, unreadable: list):
    """(name, source file, BGR image) for each image or video frame; a
    folder's images that cannot be read are added to ``unreadable``
    instead (a single image that cannot be read exits with one line)."""
    if kind == 'images':
        for name, file in items:
            img = cv2.imread(file)
            if img is None and not osp.isdir(path):
                sys.exit(f'error: cannot read image {file}')
            if img is None:
                unreadable.append(file)
                continue
            yield name, file, img
        return
    stem = osp.splitext(osp.basename(path))[0]
    video = cv2.VideoCapture(path)
    digits = len(str(items))
    i = 0
    while True:
        ok, img = video.read()
        if not ok:
            break
        yield f'{stem}_{i:0{digits}d}', path, img
        i += 1
    video.release()


def outputs_of(args, name):
    return (osp.join(args.out_dir, f'{name}_pose.png'),
            osp.join(args.out_dir, f'{name}_keypoints.json'))


def predict_one(model, args, name, source, img, boxes):
    """Infer, draw and write one image's picture and keypoints."""
    results = inference_topdown(model, img, boxes, bbox_format='xyxy')
    stacks, crop = box_heatmaps(model, img, boxes[0])
    png, out_json = outputs_of(args, name)
    cv2.imwrite(png, draw(model, img, results, stacks, crop))
    people = [dict(bbox_xyxy=box.tolist(),
                   keypoints=r.pred_instances.keypoints[0].tolist(),
                   keypoint_scores=(r.pred_instances.keypoint_scores[0]
                                    .tolist()))
              for box, r in zip(boxes, results)]
    meta = model.dataset_meta
    with open(out_json, 'w') as f:
        json.dump(dict(image=source, name=name, keypoint_names=[
            meta['keypoint_id2name'][i] for i in range(meta['num_keypoints'])
        ], people=people), f, indent=1)
    record_outputs([png, out_json], TOOL)
    return len(people), len(stacks), png, out_json


def main():
    args = parse_args()
    kind, items = list_inputs(args.input)
    names = [n for n, _ in items] if kind == 'images' else [
        f'{osp.splitext(osp.basename(args.input))[0]}_{i:0{len(str(items))}d}'
        for i in range(items)]
    inputs = [f for _, f in items] if kind == 'images' else [args.input]
    guard_outputs([o for n in names for o in outputs_of(args, n)], inputs,
                  TOOL, args.force, '--out-dir file')
    cfg = Config.fromfile(args.config)  # imports hg_plugin (custom_imports)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not args.checkpoint:
        print('warning: no --checkpoint given: random weights, the keypoints '
              'are meaningless (smoke test only)', file=sys.stderr)
    elif not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint not found: {args.checkpoint}')
    unreadable = []
    stream = frames(args.input, kind, items, unreadable)
    try:
        name, source, img = next(stream)
    except StopIteration:
        sys.exit(f'error: {args.input}: none of its {len(items)} images can '
                 f'be read (e.g. {unreadable[0]})')
    boxes = load_boxes(args, name, img.shape)  # before the model: fail fast
    model = init_or_exit(cfg, args.checkpoint, args.device)
    os.makedirs(args.out_dir, exist_ok=True)
    done = 0
    while True:
        people, stacks, png, out_json = predict_one(model, args, name, source,
                                                    img, boxes)
        done += 1
        if kind == 'images' and len(items) == 1:
            print(f'{people} people; {stacks} stacks; wrote {png} and '
                  f'{out_json}')
        try:
            name, source, img = next(stream)
        except StopIteration:
            break
        boxes = load_boxes(args, name, img.shape)
    if kind == 'video' or len(items) > 1:
        what = 'frames' if kind == 'video' else 'images'
        print(f'{done} {what}; {stacks} stacks; wrote a picture and a '
              f'keypoints file per {what[:-1]} to {args.out_dir}')
    if unreadable:
        print(f'warning: {args.input}: skipped {len(unreadable)} image(s) '
              f'that cannot be read: {", ".join(unreadable)}',
              file=sys.stderr)


if __name__ == '__main__':
    main()
