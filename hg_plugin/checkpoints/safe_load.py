"""Weights-only checkpoint loading: the allowlist of what MMPose
checkpoints hold besides tensors, one-line refusals naming every other
global, and the explicit opt-in for a trusted file that needs more.
(``hg_plugin.runtime`` adds the allowlist to torch's for MMEngine's own
loader.)"""
import contextlib
import importlib
import pickle
import re
from typing import List, Optional

import numpy as np
import torch


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
