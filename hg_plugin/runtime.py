"""The few toolbox fixes that MMPose's own entry points need, in one place.

``import hg_plugin`` (which every config does through ``custom_imports``)
calls :func:`apply` once; calling it again changes nothing. Each fix names
the versions it was written for; elsewhere it is skipped with one line
saying which and why. None of them weakens a safety default: ``torch.load``
and its ``weights_only=True`` default stay as torch ships them.

``checkpoint_allowlist`` (torch >= 2.6)
    torch loads with ``weights_only=True`` by default, and mmengine 0.10's
    loader calls ``torch.load`` without the flag. MMPose's checkpoints (the
    model zoo's included) also hold numpy arrays, scalars and dtypes
    (dataset metainfo); ``hg_plugin.checkpoints.SAFE_GLOBALS`` names
    exactly these and is added
    with torch's public ``add_safe_globals``; every other global
    (``os.system``, any class whose unpickling could run code) is still
    refused by torch. Not ``getattr``, which MMEngine's ``HistoryBuffer``
    pickles and which would reach any attribute of an allowed class: the
    configs' ``WeightsOnlyCheckpointHook`` writes the message hub without it.
    ``hg_plugin.checkpoints.load_checkpoint`` is the same load for our
    own code, with a one-line error naming every refused global.
``atomic_local_writes`` (mmengine 0.10)
    mmengine writes checkpoints straight to their final path, so a run killed
    mid-write leaves a half-written file. A ``LocalBackend`` whose writes go
    to a temporary file renamed into place is registered for local paths
    with mmengine's public ``register_backend``.
``cpu_init_dist`` (mmengine 0.10)
    ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` before creating
    the process group, which fails on a machine without CUDA; there is no
    public hook, so mmengine's ``_init_dist_pytorch`` is wrapped to skip
    that one call when CUDA is absent (with CUDA it runs unchanged).

``bf16_to_numpy`` (mmpose 1.3)
    MMPose's heads compute their training accuracy through
    ``mmpose.utils.tensor_utils.to_numpy``, which calls ``.numpy()`` on the
    bf16 heatmaps that bf16 mixed precision produces: every zoo model fails
    its first step with ``TypeError: Got unsupported ScalarType BFloat16``
    under ``--amp bf16`` (and on the CPU, whose autocast is bf16 only).
    ``to_numpy`` is wrapped to upcast bf16 tensors to float32 first, and
    rebound in the MMPose modules that imported it by name.
``dataset_build_errors`` (mmengine 0.10)
    A dataset is built inside the runner, before any hook runs, so a
    training annotation file holding no records (or no valid ones) fails
    there with numpy's ``need at least one array to concatenate`` under
    MMPose's own ``tools/train.py``. ``Runner.build_dataloader`` is wrapped:
    when building fails, the dataloader's annotation files are checked
    (:func:`hg_plugin.checks.find_invalid_records`) and an empty or
    unusable file is named in one line, raised from the original error.
    Builds that succeed are untouched.
``model_shape_check`` (mmengine 0.10)
    A hand-written mix (an MMPose head on the hourglass) whose head output
    does not have the codec's target shape (e.g. SimpleBaseline's three
    deconvolutions on features already at 1/4) fails at the first step
    inside the loss, with no word of which key to change - under MMPose's
    own tools too, which run no check unless the config lists
    ``ConfigCheckHook``. ``Runner.build_model`` is wrapped: a model with a
    ``StackedHourglass`` backbone gets one zero-batch forward
    (:func:`hg_plugin.checks.check_output_shapes`), and a mismatch stops
    the run with one line naming the key. Other models are untouched.
``checkpoint_dataset_meta`` (mmengine 0.10)
    The configs' ``WeightsOnlyCheckpointHook`` stores the trained dataset's
    metainfo as ``meta['dataset_meta_encoded']`` (numpy arrays as tensors),
    which MMPose's ``init_model`` and ``MMPoseInferencer`` do not read: they
    fell back to the dataset class's ``METAINFO``, which some classes set
    only when built (DeepFashion: per subset), failing with a bare
    ``AssertionError``. ``CheckpointLoader.load_checkpoint`` (under every
    ``load_checkpoint``/``_load_checkpoint``) is wrapped to decode it back
    into ``meta['dataset_meta']``; other checkpoints are untouched.

What a config can express lives in registered modules instead
(:mod:`hg_plugin.engine`): bf16 autocast on the CPU, the NaN guard, the
``last_checkpoint`` repair, an explicit checkpoint-global opt-in.
"""
import logging
import os
import os.path as osp
import re
import sys
from typing import Callable, Dict, List, Optional, Tuple

import mmengine
import mmpose
import mmpose.models  # noqa: F401  (the heads that import to_numpy)
import torch
from mmengine.dist import utils as dist_utils
from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader
from mmpose.utils import tensor_utils

from .checkpoints import SAFE_GLOBALS
from .checks import check_output_shapes, find_invalid_records
from .engine.weights_only_checkpoint_hook import decode

APPLIED: Dict[str, str] = {}  # fix name -> 'applied' or why it was skipped


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r'\d+', text)[:3])


# --- the fixes -------------------------------------------------------------

def _checkpoint_allowlist() -> Optional[str]:
    if _version(torch.__version__) < (2, 6):
        return f'torch {torch.__version__} does not load weights-only by ' \
            'default (written for torch >= 2.6)'
    torch.serialization.add_safe_globals(SAFE_GLOBALS)


def _atomic_write(data: bytes, filepath) -> None:
    filepath = str(filepath)
    os.makedirs(osp.dirname(filepath) or '.', exist_ok=True)
    tmp = f'{filepath}.tmp{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)  # atomic on POSIX
    except OSError as e:  # name the file meant, not the temporary
        e.filename = filepath
        raise
    finally:
        if osp.exists(tmp):
            os.remove(tmp)  # a failed write leaves nothing behind


def _atomic_local_writes() -> Optional[str]:

    class AtomicLocalBackend(LocalBackend):
        """Local files that appear whole or not at all."""

        def put(self, obj: bytes, filepath) -> None:
            _atomic_write(obj, filepath)

        def put_text(self, obj: str, filepath, encoding='utf-8') -> None:
            _atomic_write(obj.encode(encoding), filepath)

    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def _cpu_init_dist() -> Optional[str]:
    original = dist_utils._init_dist_pytorch

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch


def _bf16_to_numpy() -> Optional[str]:
    original = tensor_utils.to_numpy

    def to_numpy(x, return_device=False, unzip=False):
        # sequences recurse through the module's global, i.e. through here
        if isinstance(x, torch.Tensor) and x.dtype == torch.bfloat16:
            x = x.float()
        return original(x, return_device=return_device, unzip=unzip)

    for module in list(sys.modules.values()):
        if getattr(module, '__name__', '').startswith('mmpose') and \
                getattr(module, 'to_numpy', None) is original:
            module.to_numpy = to_numpy


class DatasetFileError(ValueError):
    """A dataloader whose annotation file holds no usable records."""


def _dataset_build_errors() -> Optional[str]:
    original = Runner.__dict__['build_dataloader'].__func__

    def build_dataloader(dataloader, *args, **kwargs):
        try:
            return original(dataloader, *args, **kwargs)
        except Exception as error:
            if not isinstance(dataloader, dict):
                raise
            found = next(find_invalid_records(
                {'dataloader': dataloader}, ['dataloader']), None)
            if found is None or found.usable:
                raise
            raise DatasetFileError(found.unusable_line().replace(
                'error: ', '', 1)) from error

    Runner.build_dataloader = staticmethod(build_dataloader)


class ModelShapeError(ValueError):
    """A head whose outputs do not have the shape of the codec's targets."""


def _model_shape_check() -> Optional[str]:
    original = Runner.build_model

    def build_model(self, model):
        built = original(self, model)
        problem = check_output_shapes(built)
        if problem:
            raise ModelShapeError(problem)
        return built

    Runner.build_model = build_model


def _checkpoint_dataset_meta() -> Optional[str]:
    original = CheckpointLoader.load_checkpoint  # a bound classmethod

    def load_checkpoint(cls, filename, map_location=None, logger='current'):
        checkpoint = original(filename, map_location, logger)
        meta = checkpoint.get('meta') if isinstance(checkpoint, dict) \
            else None
        if isinstance(meta, dict) and 'dataset_meta_encoded' in meta:
            meta['dataset_meta'] = decode(meta.pop('dataset_meta_encoded'))
        return checkpoint

    CheckpointLoader.load_checkpoint = classmethod(load_checkpoint)


FIXES: List[Tuple[str, str, Callable[[], Optional[str]]]] = [
    # (name, package and version prefix it was written for, apply)
    ('checkpoint_allowlist', 'torch', _checkpoint_allowlist),
    ('atomic_local_writes', 'mmengine 0.10', _atomic_local_writes),
    ('cpu_init_dist', 'mmengine 0.10', _cpu_init_dist),
    ('bf16_to_numpy', 'mmpose 1.3', _bf16_to_numpy),
    ('dataset_build_errors', 'mmengine 0.10', _dataset_build_errors),
    ('model_shape_check', 'mmengine 0.10', _model_shape_check),
    ('checkpoint_dataset_meta', 'mmengine 0.10', _checkpoint_dataset_meta),
]


def apply() -> Dict[str, str]:
    """Apply each fix whose versions match, once per process."""
    versions = {'torch': torch.__version__, 'mmengine': mmengine.__version__,
                'mmpose': mmpose.__version__}
    for name, written_for, fix in FIXES:
        if name in APPLIED:
            continue
        package, _, prefix = written_for.partition(' ')
        found = versions[package]
        if prefix and _version(found)[:len(_version(prefix))] != \
                _version(prefix):
            skipped = f'written for {written_for}.x, found {found}'
        else:
            skipped = fix()
        APPLIED[name] = 'applied' if skipped is None else 'skipped'
        if skipped:
            logging.getLogger('hg_plugin').warning(
                'hg_plugin.runtime: fix %s skipped (%s)', name, skipped)
    return APPLIED
