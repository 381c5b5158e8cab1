"""The config as MMPose's own tools would load it: ``Config.fromfile``,
``--cfg-options``, MMPose's ``merge_args`` of tools/train.py or test.py
(so its flags keep their meaning), and the CPU adaptations."""
import argparse
import importlib.util
import os.path as osp
import sys

import torch
from mmengine.config import Config

from hg_plugin.shipped_configs import mmpose_dir

from .outputs import work_dir_problem


def mmpose_tool(name: str):
    """MMPose's own ``tools/<name>.py`` as a module. Our tools call its
    ``merge_args``, so MMPose's flags keep exactly MMPose's meaning."""

    base = mmpose_dir('tools')
    for path in (osp.join(base, f'{name}.py'),
                 osp.join(base, '..', '..', 'tools', f'{name}.py')):
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


def adapt_cfg_to_device(cfg) -> None:
    """Without CUDA: gloo process group and DDP with ``device_ids=None``
    (MMEngine's defaults, NCCL and ``device_ids=[LOCAL_RANK]``, need a GPU)."""
    if torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
