"""Compatibility fixes for the toolbox stack, in one place.

hg_plugin targets mmpose 1.3.2 / mmengine 0.10.7 / mmcv 2.1.0 on current
torch. The gaps below are bridged by ``import hg_plugin`` (which
``custom_imports`` in every config does), so no environment variable is needed.

1. torch >= 2.6 defaults ``torch.load(weights_only=True)``. mmengine 0.10.7's
   loader for local checkpoint files calls ``torch.load`` without the flag,
   and MMEngine checkpoints pickle more than tensors (message-hub state,
   numpy scalars, config dicts), so ``--resume`` and ``tools/test.py CKPT``
   fail. :func:`patch_mmengine_checkpoint_loading` re-registers the local-file
   scheme with ``weights_only=False`` - the behaviour mmengine was written
   for. Only local files the user names are affected (trust as before 2.6).
2. On a machine without CUDA, MMEngine's default DDP wrapper passes
   ``device_ids=[LOCAL_RANK]`` and MMPose's runtime asks for NCCL; both need a
   GPU. :func:`adapt_cfg_to_device` switches to gloo and ``device_ids=None``.
3. mmengine writes checkpoints straight to their final path, so a run killed
   mid-write leaves a half-written file. :func:`patch_atomic_local_writes`
   makes local writes go to a temporary file renamed into place.
4. mmengine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` before
   creating the process group, which fails without CUDA.
   :func:`patch_mmengine_cpu_init_dist` skips that call when CUDA is absent.
5. mmengine's ``AmpOptimWrapper`` asserts an accelerator, although its
   ``autocast`` supports the CPU (bfloat16 only). :func:`patch_cpu_amp` lets
   it run on the CPU with bfloat16 (the default there); the CUDA loss scaler
   is then disabled, which bfloat16 does not need. fp16 on the CPU is refused
   with a message.
6. ``CheckpointHook`` rewrites ``work_dir/last_checkpoint`` in place after
   each checkpoint lands, so a run killed in that moment leaves it empty and
   ``--resume`` fails ("can not be found"). :func:`patch_find_latest_checkpoint`
   then falls back to the highest-numbered ``epoch_N.pth``/``iter_N.pth``.
7. With torch 2.13 and gloo, a DDP model still alive when the interpreter
   exits aborts the process ("terminate called without an active
   exception", exit code -6) in about one CPU run in eight, after the run
   itself succeeded (reproduced with plain torch DDP, no MMEngine).
   :func:`release_distributed` frees the model and destroys the process
   group first (0 failures in 46 runs of the reproducer).
"""
import gc
import os
import os.path as osp
import re
import warnings
from unittest import mock

import torch
import torch.distributed as torch_dist
from mmengine import runner as mmengine_runner
from mmengine.dist import utils as dist_utils
from mmengine.fileio.backends import LocalBackend
from mmengine.optim.optimizer import amp_optimizer_wrapper
from mmengine.runner import _flexible_runner
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import runner as runner_module
from mmengine.runner.checkpoint import CheckpointLoader


def _load_local_checkpoint(filename, map_location=None):
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def patch_mmengine_checkpoint_loading() -> None:
    """Make mmengine load local checkpoints with ``weights_only=False``."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        _load_local_checkpoint)


def _atomic_write(data: bytes, filepath) -> None:
    filepath = str(filepath)
    os.makedirs(osp.dirname(filepath) or '.', exist_ok=True)
    tmp = f'{filepath}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, filepath)  # atomic on POSIX


def patch_atomic_local_writes() -> None:
    """Checkpoints (and other local writes) appear whole or not at all."""
    LocalBackend.put = lambda self, obj, filepath: _atomic_write(obj, filepath)
    LocalBackend.put_text = lambda self, obj, filepath, encoding='utf-8': \
        _atomic_write(obj.encode(encoding), filepath)


def patch_mmengine_cpu_init_dist() -> None:
    """Let ``init_dist('pytorch')`` create a process group without CUDA."""
    original = dist_utils._init_dist_pytorch

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch_dist.init_process_group(backend=backend, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch


def patch_cpu_amp() -> None:
    """Let ``AmpOptimWrapper`` run bfloat16 autocast on a CPU-only machine."""
    wrapper = amp_optimizer_wrapper.AmpOptimWrapper
    original = wrapper.__init__

    def __init__(self, loss_scale='dynamic', dtype=None, **kwargs):
        if torch.cuda.is_available():
            return original(self, loss_scale=loss_scale, dtype=dtype, **kwargs)
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(
                f'AmpOptimWrapper: dtype={dtype!r} needs a GPU; on the CPU '
                "autocast runs bfloat16 only: set optim_wrapper.dtype="
                "'bfloat16' (or train with --amp bf16).")
        with mock.patch.object(amp_optimizer_wrapper, 'is_cuda_available',
                               lambda: True), warnings.catch_warnings():
            warnings.filterwarnings('ignore', '.*GradScaler.*')  # disabled
            original(self, loss_scale=loss_scale, dtype=torch.bfloat16,
                     **kwargs)

    wrapper.__init__ = __init__


_original_find_latest = mmengine_checkpoint.find_latest_checkpoint


def _find_latest_checkpoint(path):
    found = _original_find_latest(path)
    if found:
        return found
    numbered = [(int(m.group(2)), m.group(0)) for m in (
        re.fullmatch(r'(epoch|iter)_(\d+)\.pth', name)
        for name in (os.listdir(path) if osp.isdir(path) else [])) if m]
    return osp.join(path, max(numbered)[1]) if numbered else None


def patch_find_latest_checkpoint() -> None:
    """``--resume`` survives a run killed while ``last_checkpoint`` was
    being rewritten (empty file): resume from the newest numbered one."""
    for module in (mmengine_checkpoint, mmengine_runner, runner_module,
                   _flexible_runner):
        module.find_latest_checkpoint = _find_latest_checkpoint


def release_distributed(runner) -> None:
    """After a distributed run: free the DDP-wrapped model, then destroy the
    process group, so that nothing of DDP is left for interpreter exit."""
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    runner.model = None
    gc.collect()
    torch_dist.destroy_process_group()


def adapt_cfg_to_device(cfg) -> None:
    """Without CUDA: gloo process group and DDP with ``device_ids=None``."""
    if torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


patch_mmengine_checkpoint_loading()
patch_atomic_local_writes()
patch_mmengine_cpu_init_dist()
patch_cpu_amp()
patch_find_latest_checkpoint()
