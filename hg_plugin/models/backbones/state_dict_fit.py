"""Whether a state dict fits a module: the words for what does not
(:func:`describe_mismatch`) and the error every loader raises for a
checkpoint of another model (:class:`CheckpointMismatchError`).

Which shipped config a checkpoint would fit is known only above the models
(``hg_plugin.checkpoints.fit`` reads the configs); it registers that hint
here with :func:`set_mismatch_hint`, so the model code imports nothing else
of hg_plugin."""
from typing import Callable, Optional

from torch import nn


class CheckpointMismatchError(ValueError):
    """A checkpoint that would leave weights unloaded or mismatched."""


def _default_hint(state_dict: dict) -> str:
    return 'use the config it was trained with'


_hint: Callable[[dict], str] = _default_hint


def set_mismatch_hint(hint: Callable[[dict], str]) -> None:
    """``hint(state_dict)`` -> 'use ...': what an error about a checkpoint
    of another model suggests (keys as saved by MMEngine, ``backbone.*``)."""
    global _hint
    _hint = hint


def mismatch_hint(state_dict: dict) -> str:
    """The registered hint for ``state_dict`` (:func:`set_mismatch_hint`)."""
    return _hint(state_dict)


def few(keys, n: int = 3) -> str:
    """The first ``n`` of ``keys``, sorted, and how many there are."""
    keys = sorted(keys)
    return ', '.join(keys[:n]) + (f', ... ({len(keys)} in all)'
                                  if len(keys) > n else '')


def describe_mismatch(sd: dict, target: dict) -> Optional[str]:
    """'missing ...; unexpected ...; other shapes ...' (the first few keys
    of each) for a state dict ``sd`` loaded into one with keys and shapes
    ``target``, or None when it fits. BN's ``num_batches_tracked`` may be
    missing (PyTorch fills it in)."""
    missing = {k for k in set(target) - set(sd)
               if not k.endswith('num_batches_tracked')}
    extra = set(sd) - set(target)
    shapes = [f'{k} {tuple(sd[k].shape)} vs {tuple(target[k].shape)}'
              for k in sorted(set(sd) & set(target))
              if hasattr(sd[k], 'shape') and sd[k].shape != target[k].shape]
    parts = []
    if missing:
        parts.append(f'missing {few(missing)}')
    if extra:
        parts.append(f'unexpected {few(extra)}')
    if shapes:
        parts.append(f'other shapes {few(shapes, 2)}')
    return '; '.join(parts) or None


def check_module_load(module: nn.Module, state_dict: dict,
                      prefix: str) -> None:
    """Raise :class:`CheckpointMismatchError` when loading ``state_dict``
    leaves any of ``module``'s weights (keys ``prefix + name``) missing or
    of another shape: called while the module loads, so every loader -
    MMEngine's non-strict ``load_checkpoint`` (MMPose's Inferencer, demos,
    ``load_from``, ``--resume``), ``init_cfg`` Pretrained, torch - refuses
    such a checkpoint, naming the keys and the configs that would fit.
    Keys under the module's ``optional_key_prefixes`` may be missing."""
    own = {k[len(prefix):]: v for k, v in state_dict.items()
           if k.startswith(prefix)}
    # layers a checkpoint of the network may lack (new ones, e.g. pyramid
    # projections: they keep their initialisation)
    optional = tuple(getattr(module, 'optional_key_prefixes', ()))
    target = {k: v for k, v in module.state_dict().items()
              if k in own or not (optional and k.startswith(optional))}
    problem = describe_mismatch(own, target)
    if problem:
        hint = mismatch_hint({f'backbone.{k}': v for k, v in own.items()})
        where = prefix.rstrip('.') or type(module).__name__
        raise CheckpointMismatchError(
            f'checkpoint does not fit {where} ({problem}): {hint}; to '
            'fine-tune from it on purpose, set '
            'model.backbone.allow_partial_load=True')
