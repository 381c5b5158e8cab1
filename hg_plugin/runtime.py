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
    (dataset metainfo); :data:`SAFE_GLOBALS` names exactly these and is added
    with torch's public ``add_safe_globals``; every other global
    (``os.system``, any class whose unpickling could run code) is still
    refused by torch. Not ``getattr``, which MMEngine's ``HistoryBuffer``
    pickles and which would reach any attribute of an allowed class: the
    configs' ``WeightsOnlyCheckpointHook`` writes the message hub without it.
    :func:`load_checkpoint` is the same load for our own code, with a
    one-line :class:`UnsafeCheckpointError` naming every refused global.
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

What a config can express lives in registered modules instead
(:mod:`hg_plugin.engine`): bf16 autocast on the CPU, the NaN guard, the
``last_checkpoint`` repair, an explicit checkpoint-global opt-in.
"""
import contextlib
import logging
import os
import os.path as osp
import pickle
import re
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

APPLIED: Dict[str, str] = {}  # fix name -> 'applied' or why it was skipped


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r'\d+', text)[:3])


def _numpy_globals() -> list:
    """What pickled numpy arrays, scalars and dtypes refer to."""
    core = getattr(np, '_core', None) or np.core
    dtype_classes = {type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
        np.uint16, np.uint32, np.uint64, np.float16, np.float32,
        np.float64, np.complex64, np.complex128, np.str_, np.bytes_,
        np.object_)}
    return [core.multiarray._reconstruct, core.multiarray.scalar,
            np.ndarray, np.dtype, *sorted(dtype_classes, key=str)]


SAFE_GLOBALS: List = _numpy_globals()
"""What MMPose checkpoints pickle besides tensors, numbers, strings and the
containers torch accepts by default (dict, list, tuple, set, OrderedDict,
Counter)."""


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint whose pickle names globals outside the allowlist."""

    def __init__(self, path: str, names: List[str]):
        self.path, self.names = path, list(names)
        self.name = self.names[0]
        listed = ', '.join(self.names)
        quoted = ', '.join(repr(n) for n in self.names)
        flags = ' '.join(f'--allow-checkpoint-global {n}' for n in self.names)
        super().__init__(
            f'checkpoint {path} refers to {listed}, which is not on the '
            'allowlist of what checkpoints may contain (loading it could '
            'run code): refused. If you trust the file, allow exactly that: '
            f"custom_hooks=[dict(type='AllowCheckpointGlobalsHook', "
            f'names=[{quoted}])] (tools: {flags})')


def refused_globals(path: str, first: str) -> List[str]:
    """Every global of ``path`` outside the allowlist (read without
    unpickling), ``first`` - the one torch stopped at - first."""
    names = [first]
    try:
        allowed = {f'{g.__module__}.{g.__qualname__}'
                   for g in torch.serialization.get_safe_globals()
                   if hasattr(g, '__qualname__')}
        names += [n for n in torch.serialization.
                  get_unsafe_globals_in_checkpoint(path)
                  if n not in allowed and n != first]
    except Exception:  # noqa: BLE001 - the first name is enough
        pass
    return names


def unsafe_global(error: BaseException) -> Optional[str]:
    """The global that torch's weights-only unpickler refused, if that is
    what ``error`` is about."""
    found = re.search(r'GLOBAL (\S+?)(?:\s|$)', str(error))
    return found[1] if found else None


def load_checkpoint(path: str, map_location='cpu'):
    """``torch.load(path, weights_only=True)`` with :data:`SAFE_GLOBALS`
    (and whatever :class:`AllowCheckpointGlobalsHook` allowed). A refused
    global raises :class:`UnsafeCheckpointError` naming the file and it;
    nothing in the pickle runs."""
    with getattr(torch.serialization, 'safe_globals',
                 contextlib.nullcontext)(SAFE_GLOBALS):
        try:
            return torch.load(path, map_location=map_location,
                              weights_only=True)
        except pickle.UnpicklingError as e:
            name = unsafe_global(e)
            if name:
                raise UnsafeCheckpointError(
                    path, refused_globals(path, name)) from None
            raise


def allow_globals(names: List[str]) -> list:
    """Add the globals ``'module.Name'`` to torch's allowlist (an explicit
    opt-in for an older trusted checkpoint); returns the objects."""
    import importlib
    objects = []
    for name in names:
        module, _, attr = name.rpartition('.')
        try:
            objects.append(getattr(importlib.import_module(module), attr))
        except (ImportError, AttributeError, ValueError):
            raise ValueError(f'checkpoint global {name!r} cannot be imported: '
                             "give it as 'package.module.Name'") from None
    torch.serialization.add_safe_globals(objects)
    return objects


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
    finally:
        if osp.exists(tmp):
            os.remove(tmp)  # a failed write leaves nothing behind


def _atomic_local_writes() -> Optional[str]:
    from mmengine.fileio import LocalBackend, register_backend

    class AtomicLocalBackend(LocalBackend):
        """Local files that appear whole or not at all."""

        def put(self, obj: bytes, filepath) -> None:
            _atomic_write(obj, filepath)

        def put_text(self, obj: str, filepath, encoding='utf-8') -> None:
            _atomic_write(obj.encode(encoding), filepath)

    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def _cpu_init_dist() -> Optional[str]:
    from mmengine.dist import utils as dist_utils
    original = dist_utils._init_dist_pytorch

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch


FIXES: List[Tuple[str, str, Callable[[], Optional[str]]]] = [
    # (name, package and version prefix it was written for, apply)
    ('checkpoint_allowlist', 'torch', _checkpoint_allowlist),
    ('atomic_local_writes', 'mmengine 0.10', _atomic_local_writes),
    ('cpu_init_dist', 'mmengine 0.10', _cpu_init_dist),
]


def apply() -> Dict[str, str]:
    """Apply each fix whose versions match, once per process."""
    import mmengine
    versions = {'torch': torch.__version__, 'mmengine': mmengine.__version__}
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
