"""Checkpoints that stock ``torch.load`` (``weights_only=True``) reads with
nothing added to its allowlist."""
from collections import Counter, OrderedDict
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmpose.registry import HOOKS

TAG = '__hg_plugin__'  # {TAG: [kind, payload]} marks an encoded value
PARTS = ('meta', 'message_hub', 'param_schedulers')


def _tagged(kind: str, payload) -> dict:
    return {TAG: [kind, payload]}


def encode(value: Any) -> Any:
    """A copy of ``value`` in types torch's weights-only unpickler accepts by
    default: numpy arrays become tensors (or lists for non-numeric dtypes),
    numpy scalars and dtypes become (dtype, number) / strings, MMEngine's
    ``HistoryBuffer`` (whose pickle calls ``getattr``) its histories."""
    if isinstance(value, dict):  # other dict types (defaultdict, ...): dict
        out = {k: encode(v) for k, v in value.items()}
        return type(value)(out) if type(value) in (OrderedDict, Counter) \
            else out
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(encode(v) for v in value)
    if isinstance(value, HistoryBuffer):
        return _tagged('history', [value.max_length,
                                   encode(value._log_history),
                                   encode(value._count_history)])
    if isinstance(value, np.ndarray):
        if value.dtype.kind in 'biuf':
            return _tagged('ndarray', [value.dtype.str,
                                       torch.from_numpy(value.copy())])
        return _tagged('ndarray_list', [value.dtype.str, value.tolist()])
    if isinstance(value, np.generic):
        return _tagged('scalar', [value.dtype.str, value.item()])
    if isinstance(value, np.dtype):
        return _tagged('dtype', value.str)
    return value


def decode(value: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(value, dict):
        if set(value) == {TAG}:
            kind, payload = value[TAG]
            if kind == 'history':
                buf = HistoryBuffer(max_length=payload[0])
                buf._log_history = decode(payload[1])
                buf._count_history = decode(payload[2])
                return buf
            if kind == 'ndarray':
                return payload[1].numpy().astype(np.dtype(payload[0]))
            if kind == 'ndarray_list':
                return np.array(payload[1], dtype=np.dtype(payload[0]))
            if kind == 'scalar':
                return np.dtype(payload[0]).type(payload[1])
            if kind == 'dtype':
                return np.dtype(payload)
            raise ValueError(f'unknown encoded checkpoint value {kind!r}')
        for k in value:
            value[k] = decode(value[k])
        return value
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, tuple):
        return tuple(decode(v) for v in value)
    return value


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Write checkpoints whose ``meta``, ``message_hub`` and
    ``param_schedulers`` hold only tensors and plain data, and read them back
    exactly when a run loads or resumes one.

    MMEngine checkpoints otherwise pickle numpy objects and ``HistoryBuffer``
    (whose pickle calls ``getattr``), so on torch >= 2.6 any tool that loads
    them without hg_plugin's allowlist - MMPose's ``publish_model.py``, a
    plain ``torch.load`` - fails, and the only way around it would be
    ``weights_only=False``. ``meta['dataset_meta']`` is stored encoded under
    ``meta['dataset_meta_encoded']``: MMPose's ``init_model`` then takes the
    dataset metainfo from the config, as for any checkpoint without it.
    """

    priority = 'VERY_LOW'  # after hooks that add to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = dict(checkpoint.get('meta', {}))
        if 'dataset_meta' in meta:
            meta['dataset_meta_encoded'] = meta.pop('dataset_meta')
        checkpoint['meta'] = meta
        for part in PARTS:
            if part in checkpoint:
                checkpoint[part] = encode(checkpoint[part])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for part in PARTS:
            if part in checkpoint:
                checkpoint[part] = decode(checkpoint[part])
        meta = checkpoint.get('meta', {})
        if 'dataset_meta_encoded' in meta:
            meta['dataset_meta'] = meta.pop('dataset_meta_encoded')
