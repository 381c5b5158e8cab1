"""Say clearly when a checkpoint is unreadable or belongs to another model."""
from typing import Optional

from mmengine.model import is_model_wrapper
from torch import nn

from ..weights.safe_load import UnsafeCheckpointError, load_checkpoint
from ..weights import strip_prefix


def _few(keys, n=3) -> str:
    keys = sorted(keys)
    return ', '.join(keys[:n]) + (f', ... ({len(keys)} in all)'
                                  if len(keys) > n else '')


def check_checkpoint(path: str, model: nn.Module) -> Optional[str]:
    """One line on what is wrong with ``path`` for ``model``, or None. The
    file is read weights-only (:func:`hg_plugin.weights.safe_load.load_checkpoint`):
    a pickle that would run code is refused, naming the global."""
    try:
        ckpt = load_checkpoint(path)
    except UnsafeCheckpointError as e:
        return str(e)
    except Exception as e:  # truncated, corrupt, not a torch file
        last = (str(e).strip().splitlines() or [type(e).__name__])[-1]
        return (f'checkpoint {path} cannot be read ({last}): it is corrupt '
                'or truncated; use another one (e.g. an earlier epoch_*.pth)')
    sd = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(sd, dict):
        return f'checkpoint {path} holds no state dict'
    sd = strip_prefix(sd)
    if is_model_wrapper(model):  # DDP in distributed runs
        model = model.module
    target = model.state_dict()
    missing = set(target) - set(sd)
    unexpected = set(sd) - set(target)
    shapes = [f'{k} {tuple(sd[k].shape)} vs {tuple(target[k].shape)}'
              for k in sorted(set(sd) & set(target))
              if hasattr(sd[k], 'shape') and sd[k].shape != target[k].shape]
    if not (missing or unexpected or shapes):
        return None
    parts = []
    if missing:
        parts.append(f'missing {_few(missing)}')
    if unexpected:
        parts.append(f'unexpected {_few(unexpected)}')
    if shapes:
        parts.append(f'other shapes {_few(shapes, 2)}')
    return (f'checkpoint {path} does not match the model of this config ('
            + '; '.join(parts) + '): use the config it was trained with')
