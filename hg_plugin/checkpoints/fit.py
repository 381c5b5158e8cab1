"""Say clearly when a checkpoint is unreadable or belongs to another model,
and which shipped config a checkpoint of ours fits.

Importing this module registers :func:`fitting_configs` as the hint of the
backbone's own load check (:func:`~hg_plugin.models.backbones.
set_mismatch_hint`), so every loader's refusal names the fitting config."""
import glob
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from torch import nn

from ..models.backbones import (StackedHourglass, describe_mismatch,
                               fold_dead_biases, set_mismatch_hint)
from ..shipped_configs import config_dir
from .convert import strip_prefix
from .safe_load import UnsafeCheckpointError, load_checkpoint
from .state_dict_args import hourglass_kwargs


def check_checkpoint(path: str, model: nn.Module) -> Optional[str]:
    """One line on what is wrong with ``path`` for ``model``, or None. The
    file is read weights-only (:func:`~.safe_load.load_checkpoint`): a
    pickle that would run code is refused, naming the global."""
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
    sd = dict(strip_prefix(sd))
    if is_model_wrapper(model):  # DDP in distributed runs
        model = model.module
    backbone = getattr(model, 'backbone', None)
    if isinstance(backbone, StackedHourglass):  # as its loading does
        fold_dead_biases(sd, backbone.dead_bias_keys, 'backbone.')
    problem = describe_mismatch(sd, model.state_dict())
    if problem is None:
        return None
    return (f'checkpoint {path} does not match the model of this config ('
            f'{problem}): {fitting_configs(sd)}')


def fitting_configs(sd: dict) -> str:
    """'use ...' naming the shipped configs whose model has the
    checkpoint's stacks, channels, keypoints and depth."""
    found = hourglass_kwargs(sd)
    if found is None:
        return 'use the config it was trained with'
    fits = []
    for path in sorted(glob.glob(osp.join(config_dir(), '*.py'))):
        try:
            backbone = Config.fromfile(path).model.backbone
        except Exception:  # a config that does not load is no suggestion
            continue
        if backbone.get('type') == 'StackedHourglass' and all(
                tuple(backbone.get(k) or ()) == v if k == 'stem_channels'
                else backbone.get(k) == v for k, v in found.items()):
            fits.append(osp.basename(path))
    what = ', '.join(f'{k}={v}' for k, v in found.items())
    return (f'it holds a StackedHourglass with {what}; use '
            + (' or '.join(f'configs/{c}' for c in fits[:3]) if fits else
               'a config with these backbone settings'))


set_mismatch_hint(fitting_configs)
