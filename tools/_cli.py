"""What the command-line tools share (CLI code, not part of the library):
loading the config with the flags applied, checking config, data and
checkpoint before a run, and one clear line for a failure (the full
traceback kept in a file). ``tools/*.py`` import it as ``_cli`` (Python puts
the script's folder first on ``sys.path``)."""
import argparse
import errno
import gc
import logging
import os
import os.path as osp
import pickle
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


def save_traceback(log_dir: str) -> str:
    """Write the current exception's traceback to ``log_dir/last_error.log``
    or, when that cannot be written (read-only work dir, full disk), to a
    file in the temporary folder; returns where it went."""
    import tempfile
    for folder in (log_dir, tempfile.gettempdir()):
        try:
            os.makedirs(folder, exist_ok=True)
            log = osp.join(folder, 'last_error.log' if folder == log_dir
                           else f'hg_plugin_error_{os.getpid()}.log')
            with open(log, 'w') as f:
                traceback.print_exc(file=f)
            return log
        except OSError:
            continue
    return 'not saved: no writable folder'


def run_reporting_errors(main, log_dir: str = 'work_dirs',
                         checkpoint=None) -> None:
    """Run ``main()``; on an exception print ``error: <last line>`` to stderr
    (a DataLoader worker's error is unwrapped to its own last line; a
    checkpoint global refused by torch's weights-only loader is named with
    the file), save the traceback (:func:`save_traceback`) and exit with
    status 1. Ctrl-C (exit 130) and SIGTERM (exit 143) print where the run
    was and the last complete checkpoint; a full disk says so, with the
    file and the checkpoint to resume from (temporaries were removed by the
    atomic writes)."""
    import signal

    def terminated(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        main()
    except SystemExit:
        raise
    except (KeyboardInterrupt, Interrupted) as e:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one line, not two
        save_traceback(log_dir)
        print(interrupted_line(e, log_dir), file=sys.stderr)
        sys.exit(130 if isinstance(e, KeyboardInterrupt) else 143)
    except OSError as e:
        if e.errno != errno.ENOSPC:
            exit_one_line(e, log_dir, checkpoint)
        log = save_traceback(log_dir)  # falls back to the temp folder
        what = f' writing {e.filename}' if e.filename else ''
        sys.exit(f'error: disk full{what}: free space, then '
                 f'{resume_hint(log_dir)} (traceback: {log})')
    except BaseException as e:  # noqa: B902 - everything gets one line
        exit_one_line(e, log_dir, checkpoint)
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_one_line(e, log_dir, checkpoint) -> None:
    """Exit with 'error: <the exception's last line> (traceback: ...)'."""
    from hg_plugin.weights.safe_load import (UnsafeCheckpointError,
                                             refused_globals, unsafe_global)
    name = isinstance(e, pickle.UnpicklingError) and unsafe_global(e)
    if name:
        e = UnsafeCheckpointError(
            checkpoint or 'to load',
            refused_globals(checkpoint, name) if checkpoint else [name])
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    message = lines[-1] if lines else type(e).__name__
    if not message.startswith(type(e).__name__) and ':' not in \
            message.split(' ')[0]:
        message = f'{type(e).__name__}: {message}'
    log = save_traceback(log_dir)
    sys.exit(f'error: {message} (traceback: {log})')


class Interrupted(BaseException):
    """SIGTERM, raised where the run is, like KeyboardInterrupt for Ctrl-C."""


def interrupted_line(e, work_dir: str) -> str:
    """'interrupted at epoch E iter I; ...': where the run was (MMEngine's
    message hub) and the last complete checkpoint to resume from."""
    from mmengine.logging import MessageHub
    what = 'interrupted' if isinstance(e, KeyboardInterrupt) else \
        f'terminated ({e})'
    where = ''
    try:
        info = MessageHub.get_current_instance().runtime_info
        if 'epoch' in info or 'iter' in info:
            where = (f" at epoch {info.get('epoch', 0) + 1} iter "
                     f"{info.get('iter', 0) + 1}")
    except Exception:  # no run started yet
        pass
    return f'{what}{where}; {resume_hint(work_dir)}'


def resume_hint(work_dir: str) -> str:
    """'last complete checkpoint X; resume with --resume', or that there is
    none (MMEngine's ``find_latest_checkpoint``: the ``last_checkpoint``
    file, kept pointing at complete files by the atomic writes)."""
    from mmengine.runner import find_latest_checkpoint
    try:
        last = find_latest_checkpoint(work_dir)
    except OSError:
        last = None
    if last and osp.isfile(last):
        return f'last complete checkpoint {last}; resume with --resume'
    return 'no checkpoint saved yet; start again to train from scratch'


def mmpose_tool(name: str):
    """MMPose's own ``tools/<name>.py`` as a module. Our tools call its
    ``merge_args``, so MMPose's flags keep exactly MMPose's meaning."""
    import importlib.util

    import mmpose
    base = osp.dirname(mmpose.__file__)
    for path in (osp.join(base, '.mim', 'tools', f'{name}.py'),
                 osp.join(base, '..', 'tools', f'{name}.py')):
        if osp.isfile(path):
            spec = importlib.util.spec_from_file_location(
                f'mmpose_tools_{name}', path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    sys.exit(f'error: MMPose\'s tools/{name}.py not found beside {base}')


def add_mmpose_args(parser, train: bool) -> None:
    """The flags of MMPose's tools/train.py or tools/test.py besides config,
    checkpoint, --work-dir, --cfg-options, --launcher and --local-rank."""
    if train:
        parser.add_argument('--no-validate', action='store_true',
                            help='do not evaluate checkpoints during training')
        parser.add_argument('--auto-scale-lr', action='store_true',
                            help='scale the lr by the actual total batch size')
    else:
        parser.add_argument('--out', help='the file to save metric results '
                            '(json/yaml/pickle, by extension)')
        parser.add_argument('--dump', help='dump predictions to this pickle '
                            'file for offline evaluation')
        parser.add_argument('--badcase', action='store_true',
                            help='analyse bad cases (BadcaseAnalyzeHook)')
    parser.add_argument('--show-dir', help='draw predictions into this '
                        'folder (inside the work dir\'s timestamp folder)')
    parser.add_argument('--show', action='store_true',
                        help='display predictions in a window')
    parser.add_argument('--interval', type=int, default=1,
                        help='draw every N-th sample')
    parser.add_argument('--wait-time', type=float, default=1,
                        help='seconds each window stays (with --show)')


def load_config(args, tool: str):
    """``Config.fromfile`` (which imports hg_plugin through custom_imports),
    ``--cfg-options``, then MMPose's own ``merge_args`` of tools/``tool``.py
    (work dir, launcher, resume, visualisation, dump...), then the CPU
    adaptations. (MMPose merges ``--cfg-options`` last, which makes
    ``--no-validate`` with options on ``val_dataloader`` fail.)"""
    from mmengine.config import Config
    if not osp.isfile(args.config):
        sys.exit(f'error: config not found: {args.config}')
    try:
        cfg = Config.fromfile(args.config)
    except SyntaxError as e:
        sys.exit(f'error: {args.config}: syntax error in {e.filename} line '
                 f'{e.lineno}: {e.msg}')
    except FileNotFoundError as e:
        sys.exit(f'error: {args.config}: a file it names is missing '
                 f'({e.filename or e}): check _base_ and other paths')
    except ImportError as e:
        cause = e.__cause__ or e.__context__
        why = str(cause) if cause else str(e).splitlines()[0]
        sys.exit(f'error: {args.config}: custom_imports: {why} (check the '
                 'module names in custom_imports)')
    if args.cfg_options:  # first, so that e.g. --no-validate can drop
        cfg.merge_from_dict(args.cfg_options)  # the val_dataloader they set
    try:
        cfg = mmpose_tool(tool).merge_args(
            cfg, argparse.Namespace(**dict(vars(args), cfg_options=None)))
    except (AssertionError, ValueError) as e:  # MMPose's own flag checks
        sys.exit(f'error: {e}')
    problem = work_dir_problem(cfg.work_dir)
    if problem:
        sys.exit(f'error: {problem}')
    adapt_cfg_to_device(cfg)
    return cfg


def write_error(folder: str):
    """Why ``folder`` cannot be created or written into (the OS's words), or
    None: what MMEngine and the tools do next anyway, tried first."""
    import tempfile
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        return e.strerror
    return None


def work_dir_problem(work_dir: str):
    """Why ``work_dir`` cannot take logs and checkpoints, or None."""
    if osp.exists(work_dir) and not osp.isdir(work_dir):
        return (f'--work-dir {work_dir} is an existing file, not a folder: '
                'choose another --work-dir')
    why = write_error(work_dir)
    if why:
        return (f'--work-dir {work_dir} cannot be written ({why}): '
                'choose another --work-dir')
    return None


def check_output_path(path: str, flag: str = '--out') -> None:
    """Exit with one line when the file ``path`` could not be written (its
    folder cannot be created or written, or it is a folder): checked before
    the work whose result it would hold."""
    if osp.isdir(path):
        sys.exit(f'error: {flag} {path} is a folder; give a file name')
    folder = osp.dirname(osp.abspath(path))
    why = write_error(folder)
    if why:
        sys.exit(f'error: {flag} {path}: {folder} cannot be written '
                 f'({why}); choose another {flag}')


def save_metrics_hook(path: str):
    """MMPose's ``--out``: the test metrics written to ``path``. The folder
    is checked for writing before the evaluation starts."""
    import mmengine
    from mmengine.hooks import Hook
    check_output_path(path)

    class SaveMetricHook(Hook):
        def after_test_epoch(self, runner, metrics=None):
            if metrics is None:
                return
            try:
                mmengine.dump(metrics, path)
            except OSError as e:  # e.g. the disk filled up meanwhile
                print(f'metrics: {metrics}')  # never lost
                sys.exit(f'error: --out {path} could not be written '
                         f'({e.strerror}); the metrics are printed above')

    return SaveMetricHook()


def add_speed_args(parser, train: bool) -> None:
    """``--amp``, ``--channels-last``, ``--compile`` (and for training
    ``--with-cp``, ``--stagewise-backward``); see :func:`apply_speed_args`."""
    parser.add_argument(
        '--preset', choices=['fast'],
        help='fast: channels-last + mixed precision in the device\'s dtype + '
        'torch.compile, each where it pays on this device '
        '(hg_plugin.presets; the chosen keys are logged)')
    parser.add_argument(
        '--amp', nargs='?', const='auto', choices=['auto', 'fp16', 'bf16'],
        help='mixed precision (AmpOptimWrapper for training, autocast for '
        'evaluation); auto = fp16 on CUDA, bf16 on the CPU')
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
                            help='EXPERIMENTAL: backpropagate each stack '
                            'as soon as it is done (single process)')


def apply_speed_args(cfg, args, train: bool) -> None:
    """Turn the speed flags into the config keys that select them (the same
    keys work from a config file or ``--cfg-options``)."""
    import torch
    backbone = cfg.model.get('backbone', {})
    if getattr(args, 'preset', None):
        from hg_plugin.presets import apply_preset
        said = apply_preset(cfg, args.preset, train=train)
        print(f'--preset {args.preset}: ' + ', '.join(said))
    if args.amp:
        dtype = {'fp16': 'float16', 'bf16': 'bfloat16'}.get(args.amp) or (
            'float16' if torch.cuda.is_available() else 'bfloat16')
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
    cfg.custom_hooks = [*cfg.get('custom_hooks', []), *hooks]
    if train and args.stagewise_backward:
        if args.compile:
            sys.exit('error: --compile does not reach --stagewise-backward '
                     'training (it drives the stacks one by one, outside the '
                     'compiled forward): drop one of the two flags')
        cfg.model.type = 'StagewiseTopdownPoseEstimator'


def run_checked(cfg, config_path: str, loaders, action: str,
                checkpoint=None, hooks=()) -> None:
    """Check config and data (one line and exit on a problem), build the
    runner, check ``checkpoint`` against its model, then ``runner.<action>()``
    with errors reported as one line."""
    from mmengine.runner import Runner

    from hg_plugin.utils import (check_checkpoint, check_config,
                                 invalid_records, missing_data_message)
    problem = check_config(cfg)
    if problem:
        sys.exit(f'error: {config_path}: {problem}')
    message = missing_data_message(cfg, loaders)
    if message:
        sys.exit(message)
    message = invalid_records(cfg, loaders, cfg.work_dir)
    if message:
        sys.exit(message)

    def run():
        runner = Runner.from_cfg(cfg)
        for hook in hooks:
            runner.register_hook(hook, 'LOWEST')
        if checkpoint:
            problem = check_checkpoint(checkpoint, runner.model)
            if problem:
                sys.exit(f'error: {problem}')
        getattr(runner, action)()
        release_distributed(runner)

    run_reporting_errors(run, cfg.work_dir, checkpoint)


def release_distributed(runner) -> None:
    """After a distributed run: free the DDP-wrapped model, then destroy the
    process group, so that nothing of DDP is left for interpreter exit (with
    torch 2.13 and gloo, a DDP model alive at exit aborts the process in
    about one CPU run in eight, after the run itself succeeded)."""
    import torch.distributed as torch_dist
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    runner.model = None
    gc.collect()
    torch_dist.destroy_process_group()


def adapt_cfg_to_device(cfg) -> None:
    """Without CUDA: gloo process group and DDP with ``device_ids=None``
    (MMEngine's defaults, NCCL and ``device_ids=[LOCAL_RANK]``, need a GPU)."""
    import torch
    if torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def init_or_exit(cfg, checkpoint, device):
    """The config's model with ``checkpoint`` loaded, or exit with one line
    when the checkpoint does not fit it (hg_plugin.apis.init_checked_model)."""
    import warnings

    from hg_plugin.apis import CheckpointMismatchError, init_checked_model
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return init_checked_model(cfg, checkpoint, device)
    except CheckpointMismatchError as e:
        sys.exit(f'error: {e}')
