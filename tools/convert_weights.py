"""Convert a princeton-vl or bearpaw stacked-hourglass checkpoint into one that
hg_plugin's TopdownPoseEstimator loads with strict=True.

    python tools/convert_weights.py pv checkpoint.pt out.pth
    python tools/convert_weights.py bearpaw model_best.pth.tar out.pth
"""
import argparse
import sys

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('source', choices=['pv', 'bearpaw'],
                   help='pv: princeton-vl/pytorch_stacked_hourglass; '
                   'bearpaw: bearpaw/pytorch-pose')
    p.add_argument('src', help='their checkpoint')
    p.add_argument('dst', help='where to write ours')
    args = p.parse_args()
    from hg_plugin.weights import ConversionError, convert
    try:
        ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
    except Exception as e:  # unreadable, truncated, not a checkpoint
        sys.exit(f'error: cannot read checkpoint {args.src}: {e}')
    state_dict = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) \
        else None
    if not isinstance(state_dict, dict):
        sys.exit(f'error: {args.src} holds no state dict')
    try:
        kwargs, sd, dropped = convert(state_dict, args.source)
    except ConversionError as e:
        sys.exit(f'error: {args.src}: {e}')
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in sd.items()},
                    meta=dict(converted_from=args.source, backbone=kwargs)),
               args.dst)
    print(f'wrote {args.dst}: {len(sd)} tensors; use model.backbone = '
          f"dict(type='StackedHourglass', **{kwargs})")
    if dropped:
        print(f'dropped {len(dropped)} tensors of never-used skip layers '
              f'(e.g. {dropped[0]})')
    if args.source == 'pv':
        print('note: princeton-vl feeds RGB/255 without mean/std: set '
              'data_preprocessor mean=[0, 0, 0], std=[255, 255, 255]')


if __name__ == '__main__':
    main()
