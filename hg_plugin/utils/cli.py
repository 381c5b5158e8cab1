"""What tools/train.py and tools/test.py share: loading the config, checking
config, data and checkpoint before a run, and one clear line for a failure
(the full traceback kept in a file)."""
import logging
import os
import os.path as osp
import sys
import traceback


def route_warnings_to_stdout() -> None:
    """Python warnings (MMPose emits several on every run) go to stdout with
    the rest of the log, so that stderr carries only an error line."""
    logging.captureWarnings(True)
    logger = logging.getLogger('py.warnings')
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.propagate = False


def run_reporting_errors(main, log_dir: str = 'work_dirs') -> None:
    """Run ``main()``; on an exception print ``error: <last line>`` to stderr
    (a DataLoader worker's error is unwrapped to its own last line), save
    the traceback to ``log_dir/last_error.log`` and exit with status 1."""
    try:
        main()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as e:  # noqa: B902 - everything gets one line
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        message = lines[-1] if lines else type(e).__name__
        if not message.startswith(type(e).__name__) and ':' not in \
                message.split(' ')[0]:
            message = f'{type(e).__name__}: {message}'
        os.makedirs(log_dir, exist_ok=True)
        log = osp.join(log_dir, 'last_error.log')
        with open(log, 'w') as f:
            traceback.print_exc(file=f)
        sys.exit(f'error: {message} (traceback: {log})')


def load_config(args):
    """``Config.fromfile`` (which imports hg_plugin through custom_imports),
    ``--cfg-options``, launcher, work dir, and the CPU adaptations."""
    from mmengine.config import Config

    from ..compat import adapt_cfg_to_device
    if not osp.isfile(args.config):
        sys.exit(f'error: config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    adapt_cfg_to_device(cfg)
    return cfg


def add_speed_args(parser, train: bool) -> None:
    """``--amp``, ``--channels-last``, ``--compile`` (and for training
    ``--with-cp``, ``--stagewise-backward``); see :func:`apply_speed_args`."""
    parser.add_argument(
        '--amp', nargs='?', const='auto', choices=['auto', 'fp16', 'bf16'],
        help='mixed precision (AmpOptimWrapper for training, autocast for '
        'evaluation); auto = fp16 on CUDA, bf16 on the CPU')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels-last memory format (StackedHourglass '
                        'backbones: model.backbone.channels_last=True)')
    parser.add_argument('--compile', nargs='?', const='inductor',
                        metavar='BACKEND',
                        help='torch.compile backbone, neck and head (cfg.compile; '
                        'default backend inductor)')
    if train:
        parser.add_argument('--with-cp', action='store_true',
                            help='per-stack activation checkpointing '
                            '(model.backbone.with_cp=True)')
        parser.add_argument('--stagewise-backward', action='store_true',
                            help='EXPERIMENTAL: backpropagate each stack '
                            'as soon as it is done (single process)')


def apply_speed_args(cfg, args, train: bool) -> None:
    """Turn the speed flags into the config keys that select them (the same
    keys work from a config file or ``--cfg-options``)."""
    import torch
    backbone = cfg.model.get('backbone', {})
    if args.amp:
        dtype = {'fp16': 'float16', 'bf16': 'bfloat16'}.get(args.amp) or (
            'float16' if torch.cuda.is_available() else 'bfloat16')
        if train:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.dtype = dtype
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        for loop in ('val_cfg', 'test_cfg'):
            if cfg.get(loop) is not None and cfg[loop].get(
                    'type', 'ValLoop') in ('ValLoop', 'TestLoop'):
                cfg[loop].fp16 = True  # mmengine: autocast, default dtype
    flags = [('channels_last', args.channels_last)]
    if train:
        flags.append(('with_cp', args.with_cp))
    for key, wanted in flags:
        if wanted:
            if backbone.get('type') != 'StackedHourglass':
                sys.exit(f'error: --{key.replace("_", "-")} needs a '
                         f'StackedHourglass backbone (model.backbone.type is '
                         f'{backbone.get("type")!r})')
            backbone[key] = True
    if args.compile:
        cfg.compile = dict(backend=args.compile)
    if train and args.stagewise_backward:
        if args.compile:
            sys.exit('error: --compile does not reach --stagewise-backward '
                     'training (it drives the stacks one by one, outside the '
                     'compiled forward): drop one of the two flags')
        cfg.model.type = 'StagewiseTopdownPoseEstimator'


def compile_network(model, options) -> None:
    """``torch.compile`` the tensor part of a pose estimator in place: the
    ``forward`` of its backbone, neck and head (instance attributes, so
    parameter names and checkpoints do not change; ``head.predict`` and
    ``head.loss`` call ``self.forward`` and get the compiled one too).

    mmengine's own ``cfg.compile`` compiles the whole ``train_step``, which
    makes dynamo trace the data preprocessor and MMEngine data samples; on
    real data their numpy metainfo stops it (``TorchRuntimeError`` on
    ``ndarray.__deepcopy__``), so :func:`run_checked` uses this instead, for
    training and evaluation alike. ``options`` as for ``cfg.compile``:
    ``True`` or a dict of ``torch.compile`` arguments.
    """
    import torch
    from mmengine.logging import MMLogger
    options = {} if options is True else dict(options)
    model = getattr(model, 'module', model)  # DDP-wrapped or not
    if options.get('backend') == 'eager' and getattr(
            getattr(model, 'backbone', None), 'with_cp', False):
        sys.exit("error: compile backend 'eager' runs checkpointed stacks "
                 'without AOTAutograd and breaks with_cp: use the inductor '
                 "or 'aot_eager' backend, or drop --with-cp")
    for name in ('backbone', 'neck', 'head'):
        part = getattr(model, name, None)
        if part is not None:
            part.forward = torch.compile(part.forward, **options)
    MMLogger.get_current_instance().info(
        f'torch.compile({options}) applied to backbone, neck and head')


def run_checked(cfg, config_path: str, loaders, action: str,
                checkpoint=None) -> None:
    """Check config and data (one line and exit on a problem), build the
    runner, check ``checkpoint`` against its model, then ``runner.<action>()``
    with errors reported as one line."""
    from mmengine.runner import Runner

    from ..compat import release_distributed
    from .checkpoint_check import check_checkpoint
    from .config_check import check_config
    from .data_check import missing_data_message
    problem = check_config(cfg)
    if problem:
        sys.exit(f'error: {config_path}: {problem}')
    message = missing_data_message(cfg, loaders)
    if message:
        sys.exit(message)

    def run():
        runner = Runner.from_cfg(cfg)
        if checkpoint:
            problem = check_checkpoint(checkpoint, runner.model)
            if problem:
                sys.exit(f'error: {problem}')
        if runner.cfg.get('compile'):  # see compile_network
            compile_network(runner.model, runner.cfg.compile)
            runner.cfg.compile = None  # mmengine: do not compile train_step
        getattr(runner, action)()
        release_distributed(runner)

    run_reporting_errors(run, cfg.work_dir)
