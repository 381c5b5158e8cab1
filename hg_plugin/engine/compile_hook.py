"""``torch.compile`` of the network, selected by a config key."""
import torch
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmpose.registry import HOOKS


def compile_network(model, options) -> None:
    """``torch.compile`` the tensor part of a pose estimator in place: the
    ``forward`` of its backbone, neck and head (instance attributes, so
    parameter names and checkpoints do not change; ``head.predict`` and
    ``head.loss`` call ``self.forward`` and get the compiled one too).

    mmengine's own ``cfg.compile`` compiles the whole ``train_step``, which
    makes dynamo trace the data preprocessor and MMEngine data samples; on
    real data their numpy metainfo stops it (``TorchRuntimeError`` on
    ``ndarray.__deepcopy__``), so this compiles the network only, for
    training and evaluation alike. ``options``: ``True`` or a dict of
    ``torch.compile`` arguments.
    """
    options = {} if options is True else dict(options)
    model = getattr(model, 'module', model)  # DDP-wrapped or not
    if options.get('backend') == 'eager' and getattr(
            getattr(model, 'backbone', None), 'with_cp', False):
        raise ValueError(
            "compile backend 'eager' runs checkpointed stacks without "
            "AOTAutograd and breaks with_cp: use the inductor or 'aot_eager' "
            'backend, or set model.backbone.with_cp=False')
    for name in ('backbone', 'neck', 'head'):
        part = getattr(model, name, None)
        if part is not None:
            part.forward = torch.compile(part.forward, **options)
    MMLogger.get_current_instance().info(
        f'torch.compile({options}) applied to backbone, neck and head')


@HOOKS.register_module()
class CompileNetworkHook(Hook):
    """Compile backbone, neck and head before the run (see
    :func:`compile_network`); works the same from MMPose's own tools.

    Args:
        backend (str): ``torch.compile`` backend. Defaults to 'inductor'.
        **options: further ``torch.compile`` arguments (``mode``, ...).
    """

    priority = 'VERY_LOW'  # after everything that wraps or loads the model

    def __init__(self, backend: str = 'inductor', **options):
        self.options = dict(backend=backend, **options)

    def before_run(self, runner) -> None:
        compile_network(runner.model, self.options)
