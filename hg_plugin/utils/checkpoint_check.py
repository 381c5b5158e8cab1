"""Say clearly when a checkpoint is unreadable or belongs to another model."""
from typing import Optional

from mmengine.model import is_model_wrapper
from torch import nn

from ..weights.safe_load import UnsafeCheckpointError, load_checkpoint
from ..weights import strip_prefix


class CheckpointMismatchError(ValueError):
    """A checkpoint that would leave weights unloaded or mismatched."""


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
    problem = describe_mismatch(sd, model.state_dict())
    if problem is None:
        return None
    return (f'checkpoint {path} does not match the model of this config ('
            f'{problem}): {fitting_configs(sd)}')


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
        parts.append(f'missing {_few(missing)}')
    if extra:
        parts.append(f'unexpected {_few(extra)}')
    if shapes:
        parts.append(f'other shapes {_few(shapes, 2)}')
    return '; '.join(parts) or None


def hourglass_of(sd: dict) -> Optional[dict]:
    """The StackedHourglass arguments a state dict was saved from, or None
    (keys ``backbone.hgs.<i>...``, ``backbone.outs.<i>.weight``)."""
    import re
    stacks = {int(m[1]) for k in sd
              for m in [re.match(r'backbone\.hgs\.(\d+)\.', k)] if m}
    out = sd.get('backbone.outs.0.weight')
    if not stacks or out is None:
        return None
    # Hourglass(n).low2 is Hourglass(n-1), and at n=1 a Residual
    depth = max(k.count('low2.') for k in sd if k.startswith(
        'backbone.hgs.0.'))
    return dict(num_stacks=max(stacks) + 1, num_keypoints=out.shape[0],
                feat_channels=out.shape[1], depth=depth)


def fitting_configs(sd: dict) -> str:
    """'use ...' naming the shipped configs whose model has the
    checkpoint's stacks, channels, keypoints and depth."""
    found = hourglass_of(sd)
    if found is None:
        return 'use the config it was trained with'
    import glob
    import os.path as osp

    from mmengine.config import Config

    from .. import config_dir
    fits = []
    for path in sorted(glob.glob(osp.join(config_dir(), '*.py'))):
        try:
            backbone = Config.fromfile(path).model.backbone
        except Exception:  # a config that does not load is no suggestion
            continue
        if backbone.get('type') == 'StackedHourglass' and all(
                backbone.get(k) == v for k, v in found.items()):
            fits.append(osp.basename(path))
    what = ', '.join(f'{k}={v}' for k, v in found.items())
    return (f'it holds a StackedHourglass with {what}; use '
            + (' or '.join(f'configs/{c}' for c in fits[:3]) if fits else
               'a config with these backbone settings'))


def check_module_load(module: nn.Module, state_dict: dict,
                      prefix: str) -> None:
    """Raise :class:`CheckpointMismatchError` when loading ``state_dict``
    leaves any of ``module``'s weights (keys ``prefix + name``) missing or
    of another shape: called while the module loads, so every loader -
    MMEngine's non-strict ``load_checkpoint`` (MMPose's Inferencer, demos,
    ``load_from``, ``--resume``), ``init_cfg`` Pretrained, torch - refuses
    such a checkpoint, naming the keys and the configs that would fit."""
    own = {k[len(prefix):]: v for k, v in state_dict.items()
           if k.startswith(prefix)}
    problem = describe_mismatch(own, module.state_dict())
    if problem:
        found = fitting_configs({f'backbone.{k}': v for k, v in own.items()})
        where = prefix.rstrip('.') or type(module).__name__
        raise CheckpointMismatchError(
            f'checkpoint does not fit {where} ({problem}): {found}; to '
            'fine-tune from it on purpose, set '
            'model.backbone.allow_partial_load=True')
