"""The ``StackedHourglass`` arguments a state dict of ours was saved from:
read from tensor names and shapes, the one place that knows how."""
import re
from typing import Dict, Optional


def hourglass_kwargs(sd: Dict, prefix: str = 'backbone.') -> Optional[Dict]:
    """The ``StackedHourglass`` arguments a state dict was saved from
    (``num_stacks``, ``num_keypoints``, ``feat_channels``, ``depth``, and
    ``stem_channels`` where they are not the paper's), or None when it
    holds no hourglass. Keys are ours, under ``prefix``."""
    stacks = {int(m[1]) for k in sd
              for m in [re.match(re.escape(prefix) + r'hgs\.(\d+)\.', k)] if m}
    out = sd.get(f'{prefix}outs.0.weight')
    if not stacks or out is None:
        return None
    # Hourglass(n).low2 is Hourglass(n-1), and at n=1 a Residual
    depth = max(k.count('low2.') for k in sd if k.startswith(
        f'{prefix}hgs.0.'))
    kwargs = dict(num_stacks=max(stacks) + 1, num_keypoints=out.shape[0],
                  feat_channels=out.shape[1], depth=depth)
    f = out.shape[1]
    stem = tuple(sd[f'{prefix}{k}'].shape[0] for k in (
        'pre.0.0.weight', 'pre.1.conv3.weight', 'pre.3.conv3.weight')
        if f'{prefix}{k}' in sd)
    if len(stem) == 3 and stem != (f // 4, f // 2, f // 2):
        kwargs['stem_channels'] = stem
    return kwargs
