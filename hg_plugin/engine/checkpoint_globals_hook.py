"""Explicit opt-in for a trusted checkpoint that pickles more than tensors,
numbers and the types of :data:`hg_plugin.checkpoints.SAFE_GLOBALS`."""
from typing import List

from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmpose.registry import HOOKS

from ..checkpoints import allow_globals


@HOOKS.register_module()
class AllowCheckpointGlobalsHook(Hook):
    """Add the named globals to torch's weights-only allowlist before the
    run loads ``load_from``/``resume`` (hooks' ``before_run`` comes first).

    Use it only for a file you trust: an allowed class is reconstructed from
    the pickle. Nothing else is allowed, and ``torch.load``'s
    ``weights_only=True`` default stays.

    Args:
        names (list[str]): ``'package.module.Name'`` of each global the
            refusal message named.
    """

    priority = 'VERY_HIGH'

    def __init__(self, names: List[str]):
        if isinstance(names, str) or not all(
                isinstance(n, str) for n in names):
            raise TypeError('AllowCheckpointGlobalsHook: names must be a list '
                            "of 'package.module.Name' strings")
        self.names = list(names)

    def before_run(self, runner) -> None:
        allow_globals(self.names)
        MMLogger.get_current_instance().warning(
            'checkpoint loading allows these globals besides tensors and '
            f'plain data: {", ".join(self.names)} (AllowCheckpointGlobalsHook)')
