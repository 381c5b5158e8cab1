"""What changed between two configs, in the keys that decide what a
training run computes: its data stream, its model, its optimisation."""
from typing import Any, Dict, Iterable, List, Tuple

# the settings a resumed run must share with the checkpoint's run to
# continue exactly as the uninterrupted run would have
TRAINING_KEYS = (
    'train_dataloader.batch_size', 'train_dataloader.sampler',
    'train_dataloader.dataset', 'randomness', 'model', 'optim_wrapper',
    'param_scheduler', 'train_cfg', 'auto_scale_lr')


def flatten(value: Any, key: str = '') -> Dict[str, Any]:
    """``{'a.b[0].c': leaf}`` for nested dicts and lists (tuples as lists,
    so that a config's text round trip compares equal)."""
    if isinstance(value, dict):
        out = {}
        for k in sorted(value, key=str):
            out.update(flatten(value[k], f'{key}.{k}' if key else str(k)))
        return out or {key: {}}
    if isinstance(value, (list, tuple)):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f'{key}[{i}]'))
        return out or {key: []}
    return {key: value}


def _get(cfg, dotted: str):
    node = cfg
    for part in dotted.split('.'):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def config_changes(old, new, keys: Iterable[str] = TRAINING_KEYS
                   ) -> List[Tuple[str, Any, Any]]:
    """(key, old value, new value) for every leaf under ``keys`` that
    differs between the configs (``None``: absent)."""
    old, new = (getattr(c, '_cfg_dict', c) for c in (old, new))  # Config
    changes = []
    for root in keys:
        a = flatten(_to_plain(_get(old, root)), root)
        b = flatten(_to_plain(_get(new, root)), root)
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                changes.append((key, a.get(key), b.get(key)))
    return changes


def _to_plain(value):
    """ConfigDicts and tuples as plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def describe_changes(changes: List[Tuple[str, Any, Any]],
                     most: int = 6) -> str:
    """'key old -> new, ...' for the first ``most`` changes."""
    def short(v):
        text = repr(v)
        return text if len(text) <= 40 else text[:37] + '...'
    shown = [f'{k} {short(a)} -> {short(b)}' for k, a, b in changes[:most]]
    more = len(changes) - most
    return ', '.join(shown) + (f' and {more} more' if more > 0 else '')
