"""Convert a princeton-vl or bearpaw stacked-hourglass checkpoint into a
checkpoint and a config that run together (tools/test.py, tools/infer.py).

    python tools/convert_weights.py pv checkpoint.pt out.pth
    python tools/convert_weights.py bearpaw model_best.pth.tar out.pth

writes ``out.pth`` (loads into hg_plugin's TopdownPoseEstimator with
strict=True) and ``out.py`` beside it: configs/hg8_mpii_256.py with the
source's stacks, stem channels, per-stack loss weights and input
normalisation, and ``load_from`` set to ``out.pth``.

The source is read weights-only (tensors, numbers, containers, numpy): a
pickle that would run code is refused, naming the global. ``--trust-source``
reads it as a full pickle instead; give it only for a file you trust.
"""
import argparse
import os.path as osp
import sys

import torch
from _cli import guard_outputs, record_outputs

from hg_plugin import config_path
from hg_plugin.checkpoints import (ConversionError, UnsafeCheckpointError,
                                   convert, data_preprocessor,
                                   load_checkpoint)
from hg_plugin.config_file import write_config

TOOL = 'tools/convert_weights.py'


def read_source(path: str, trust: bool):
    try:
        if trust:
            return torch.load(path, map_location='cpu', weights_only=False)
        return load_checkpoint(path)
    except UnsafeCheckpointError as e:
        sys.exit(f'error: {e.path} refers to {", ".join(e.names)}, which a '
                 'weights-only '
                 'load refuses (unpickling it could run code); if you trust '
                 'the file, add --trust-source')
    except Exception as e:  # unreadable, truncated, not a checkpoint
        last = (str(e).strip().splitlines() or [type(e).__name__])[-1]
        sys.exit(f'error: cannot read checkpoint {path}: {last}')


def write_converted_config(path: str, ckpt_path: str, source: str,
                           src: str, kwargs: dict) -> None:
    """A config beside the checkpoint: the shipped MPII config with this
    network, its per-stack loss weights and the source's normalisation."""
    n = kwargs['num_stacks']
    model = dict(data_preprocessor=data_preprocessor(source),
                 backbone=dict(type='StackedHourglass', **kwargs),
                 head=dict(num_stacks=n, out_channels=kwargs['num_keypoints'],
                           loss=dict(stack_weights=[1.0] * n)))
    write_config(
        path, dict(load_from=osp.abspath(ckpt_path), model=model),
        base=config_path('hg8_mpii_256'), imports=(), comments=[
            f'Written by tools/convert_weights.py: {source} checkpoint {src}',
            f'converted to {osp.basename(ckpt_path)}. The shipped MPII '
            "recipe with the source's network and input normalisation."])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('source', choices=['pv', 'bearpaw'],
                   help='pv: princeton-vl/pytorch_stacked_hourglass; '
                   'bearpaw: bearpaw/pytorch-pose')
    p.add_argument('src', help='their checkpoint')
    p.add_argument('dst', help='where to write ours (the config goes beside '
                   'it, same name, .py)')
    p.add_argument('--trust-source', action='store_true',
                   help='read SRC as a full pickle (it may run code)')
    p.add_argument('--force', action='store_true',
                   help='overwrite existing files this tool did not write')
    args = p.parse_args()
    config = osp.splitext(args.dst)[0] + '.py'
    guard_outputs([args.dst, config], [args.src], TOOL, args.force, 'output')
    ckpt = read_source(args.src, args.trust_source)
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
    write_converted_config(config, args.dst, args.source, args.src, kwargs)
    record_outputs([args.dst, config], TOOL)
    print(f'wrote {args.dst} ({len(sd)} tensors) and {config}: '
          f'StackedHourglass({kwargs})')
    if kwargs['num_keypoints'] != 16:
        print(f'note: {kwargs["num_keypoints"]} keypoints: {config} keeps '
              'the MPII (16 keypoints) data settings; change the dataset')
    if dropped:
        print(f'dropped {len(dropped)} tensors of never-used skip layers '
              f'(e.g. {dropped[0]})')


if __name__ == '__main__':
    main()
