"""The speed flags (``--preset``, ``--amp``, ``--channels-last``,
``--compile``, ``--with-cp``, ``--stagewise-backward``, ``--captured-step``)
as the config keys that select them, so a flag and a config file mean the
same."""
import sys

import torch

from hg_plugin.engine import amp_dtype_for
from hg_plugin.presets import apply_preset


def add_speed_args(parser, train: bool) -> None:
    """``--amp``, ``--channels-last``, ``--compile`` (and for training
    ``--with-cp``, ``--stagewise-backward``); see :func:`apply_speed_args`."""
    parser.add_argument(
        '--preset', choices=['fast'],
        help='fast: channels-last (exact) + mixed precision in the '
        'device\'s dtype where it pays (fp16 on CUDA, bf16 on a CPU with '
        'AMX; rounding-level differences) + cudnn.benchmark on CUDA; no '
        'torch.compile (hg_plugin.presets; the chosen keys are printed)')
    parser.add_argument(
        '--amp', nargs='?', const='auto', choices=['auto', 'fp16', 'bf16'],
        help='mixed precision (AmpOptimWrapper for training, autocast for '
        'evaluation); auto = the device\'s dtype, as --preset fast and '
        'DeviceAmpOptimWrapper(dtype=auto) choose it: fp16 on CUDA, bf16 on '
        'the CPU')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels-last memory format (StackedHourglass: '
                        'model.backbone.channels_last=True, its default; '
                        'other backbones: ChannelsLastHook)')
    parser.add_argument('--compile', nargs='?', const='inductor',
                        metavar='BACKEND',
                        help='torch.compile backbone, neck and head '
                        '(CompileNetworkHook; default backend inductor)')
    parser.add_argument('--allow-checkpoint-global', action='append',
                        metavar='MODULE.NAME', default=[],
                        help='trust a checkpoint that pickles this global '
                        '(AllowCheckpointGlobalsHook); repeatable')
    if train:
        parser.add_argument('--with-cp', action='store_true',
                            help='per-stack activation checkpointing '
                            '(model.backbone.with_cp=True)')
        parser.add_argument('--stagewise-backward', action='store_true',
                            help='backpropagate each stack as soon as it '
                            'is done, the stacks trained apart '
                            '(StagewiseTopdownPoseEstimator; its mode '
                            'key picks the reading; single process)')
        parser.add_argument('--captured-step', action='store_true',
                            help='capture the training step once as a CUDA '
                            'graph and replay it (CapturedTrainStepHook; '
                            'bf16 or fp32, one GPU, a capturable optimizer '
                            'such as the shipped RMSprop; on a CPU the '
                            'same step code runs eagerly)')


def apply_speed_args(cfg, args, train: bool) -> None:
    """Turn the speed flags into the config keys that select them (the same
    keys work from a config file or ``--cfg-options``)."""
    backbone = cfg.model.get('backbone', {})
    if getattr(args, 'preset', None):
        said = apply_preset(cfg, args.preset, train=train)
        print(f'--preset {args.preset}: ' + ', '.join(said))
    if args.amp:
        dtype = {'fp16': 'float16', 'bf16': 'bfloat16'}.get(args.amp) or \
            amp_dtype_for('cuda' if torch.cuda.is_available() else 'cpu')
        if train:
            cfg.optim_wrapper.type = 'DeviceAmpOptimWrapper'
            cfg.optim_wrapper.dtype = dtype
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        for loop in ('val_cfg', 'test_cfg'):
            if cfg.get(loop) is not None and cfg[loop].get(
                    'type', 'ValLoop') in ('ValLoop', 'TestLoop'):
                cfg[loop].fp16 = True  # mmengine: autocast, default dtype
    hooks = []
    ours = backbone.get('type') == 'StackedHourglass'
    if args.channels_last:
        if ours:
            backbone['channels_last'] = True
        else:
            hooks.append(dict(type='ChannelsLastHook'))
    if train and args.with_cp:
        if not ours:
            sys.exit('error: --with-cp needs a StackedHourglass backbone '
                     f'(model.backbone.type is {backbone.get("type")!r})')
        backbone['with_cp'] = True
    if args.compile:
        hooks.append(dict(type='CompileNetworkHook', backend=args.compile))
    if args.allow_checkpoint_global:
        hooks.append(dict(type='AllowCheckpointGlobalsHook',
                          names=args.allow_checkpoint_global))
    if train and getattr(args, 'captured_step', False):
        if cfg.optim_wrapper.get('dtype') == 'float16':
            # (fp16: --amp or --preset fast on CUDA) needs the loss scaler
            cfg.optim_wrapper.dtype = 'bfloat16'
            print('--captured-step: bf16 autocast instead of fp16 (no loss '
                  'scaler, whose overflow check waits for the device)')
        hooks.append(dict(type='CapturedTrainStepHook'))
    cfg.custom_hooks = [*cfg.get('custom_hooks', []), *hooks]
    if train and args.stagewise_backward:
        if args.compile:
            sys.exit('error: --compile does not reach --stagewise-backward '
                     'training (it drives the stacks one by one, outside the '
                     'compiled forward): drop one of the two flags')
        cfg.model.type = 'StagewiseTopdownPoseEstimator'
