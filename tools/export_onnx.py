"""Export a stacked-hourglass pose model to ONNX and check it with onnxruntime.

    python tools/export_onnx.py CONFIG [--checkpoint CKPT] [--out model.onnx]
        [--dynamic-batch] [--image IMG]

The graph maps a normalized (B, 3, H, W) image (the config's
data_preprocessor mean/std, RGB) to every stack's (B, K, H/4, W/4) heatmaps
(outputs heatmaps_stack1..N; decode the last). Parity with PyTorch is checked
on IMG (default: a synthetic figure drawn by hg_plugin.datasets, so the tool
needs no data on disk) and the file size reported.
"""
import argparse
import os.path as osp
import sys
import warnings

import cv2
import numpy as np
import torch
from _cli import (check_output_path, guard_outputs, init_or_exit,
                  record_outputs)
from mmengine.config import Config, DictAction

from hg_plugin.apis import preprocess_box, stack_heatmaps
from hg_plugin.synthetic import make_sample

TOLERANCE = 1e-3


class HeatmapNet(torch.nn.Module):
    """backbone + head.forward: image -> tuple of per-stack heatmaps."""

    def __init__(self, model):
        super().__init__()
        self.backbone, self.head = model.backbone, model.head

    def forward(self, x):
        return stack_heatmaps(self.head, self.backbone(x))


def sample_input(model, image=None) -> torch.Tensor:
    """An image (``None``: a synthetic 256x256 figure), whole, through the
    config's test pipeline and preprocessor."""
    if image is None:
        img = make_sample(np.random.default_rng(0), 256)[0]
    else:
        img = cv2.imread(image)
    if img is None:
        sys.exit(f'error: cannot read image {image} (set --image)')
    h, w = img.shape[:2]
    return preprocess_box(model, img, [0, 0, w, h])[0]


def export(model, x, path, dynamic_batch):
    net = HeatmapNet(model).eval()
    with torch.no_grad():
        n = len(net(x))
    names = [f'heatmaps_stack{i + 1}' for i in range(n)]
    axes = {k: {0: 'batch'} for k in ['input', *names]} \
        if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(net, (x, ), path, input_names=['input'],
                          output_names=names, dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    return net


def check(net, path, x) -> float:
    """Max |PyTorch - onnxruntime| over every output."""
    import onnxruntime as ort  # here: the optional [onnx] extra
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    with torch.no_grad():
        ref = [t.numpy() for t in net(x)]
    got = sess.run(None, {'input': x.numpy()})
    return max(float(np.abs(a - b).max()) for a, b in zip(ref, got))


def main():
    p = argparse.ArgumentParser(description='Export to ONNX')
    p.add_argument('config')
    p.add_argument('--checkpoint')
    p.add_argument('--out', default='work_dirs/onnx/model.onnx')
    p.add_argument('--dynamic-batch', action='store_true')
    p.add_argument('--image', help='image for the parity check (default: '
                   'a synthetic figure)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings, key=value')
    p.add_argument('--force', action='store_true',
                   help='overwrite an existing file this tool did not write')
    args = p.parse_args()
    guard_outputs([args.out], [args.config, args.checkpoint, args.image],
                  'tools/export_onnx.py', args.force, '--out')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    check_output_path(args.out)  # before the model is built and exported
    if not args.checkpoint:
        print('warning: no --checkpoint: exporting random weights',
              file=sys.stderr)
    model = init_or_exit(cfg, args.checkpoint, 'cpu')
    x = sample_input(model, args.image)
    net = export(model, x, args.out, args.dynamic_batch)
    record_outputs([args.out], 'tools/export_onnx.py')
    diff = check(net, args.out, x)
    if args.dynamic_batch:
        diff = max(diff, check(net, args.out, torch.cat([x, x.flip(-1)])))
    size = osp.getsize(args.out) / 2**20
    print(f'wrote {args.out}: {size:.1f} MiB, '
          f'{"dynamic" if args.dynamic_batch else "static"} batch, '
          f'max |torch - onnxruntime| = {diff:.2e} on '
          f'{args.image or "a synthetic figure"}')
    if diff >= TOLERANCE:
        sys.exit(f'error: ONNX output differs from PyTorch by {diff:.2e} '
                 f'(tolerance {TOLERANCE})')


if __name__ == '__main__':
    main()
