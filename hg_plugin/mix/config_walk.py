"""Walkers over config dicts for the mixing rules: find the codecs and
pretrained inits anywhere in a config, replace a codec everywhere, turn
multi-level targets into one, align bottom-up size factors."""
import copy
from typing import List

from mmengine.config import Config
from mmpose.registry import KEYPOINT_CODECS


def each_dict(node):
    """Every dict inside a config value, outermost first."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from each_dict(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from each_dict(v)


def codecs_of(cfg: Config) -> List[dict]:
    """Every codec dict in the config (heads' decoders, GenerateTarget
    encoders)."""
    return [d for d in each_dict(cfg._cfg_dict.to_dict())
            if 'input_size' in d and isinstance(d.get('type'), str)
            and KEYPOINT_CODECS.get(d['type']) is not None]


def replace_dict(node, old: dict, new: dict):
    """A copy of ``node`` with every dict equal to ``old`` replaced."""
    if isinstance(node, dict):
        if node == old:
            return copy.deepcopy(new)
        return {k: replace_dict(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [replace_dict(v, old, new) for v in node]
    if isinstance(node, tuple):
        return tuple(replace_dict(v, old, new) for v in node)
    return node


def pretrained_inits(node, key: str):
    """(config key, checkpoint) of every ``init_cfg`` of type Pretrained
    below ``node``."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            yield f'{key}.init_cfg', init.get('checkpoint')
        for k, v in node.items():
            if k != 'init_cfg':
                yield from pretrained_inits(v, f'{key}.{k}')


def single_level_targets(node, codec: dict) -> bool:
    """GenerateTarget with a list of encoders (multi-stage heads) -> one
    encoder, ``codec``, in place."""
    changed = False
    for d in list(each_dict(node)):
        if d.get('type') == 'GenerateTarget' and isinstance(
                d.get('encoder'), (list, tuple)):
            d['encoder'] = copy.deepcopy(codec)
            d.pop('multilevel', None)
            changed = True
    return changed


def set_size_factor(node, factor: int) -> bool:
    """BottomupResize size factors -> multiples of ``factor``, in place."""
    changed = False
    for d in list(each_dict(node)):
        old = d.get('size_factor', 32)
        if d.get('type') == 'BottomupResize' and old % factor:
            d['size_factor'] = factor * max(1, old // factor)
            changed = True
    return changed
