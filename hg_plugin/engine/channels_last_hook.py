"""Channels-last memory format for any MMPose model, selected by a config key."""
import torch
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmpose.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the model's weights to channels-last before the run: a 4-D
    conv whose weight is channels-last runs channels-last (cuDNN and oneDNN
    pick the format from input or weight), so activations follow. The same
    numbers, faster convolutions. ``StackedHourglass`` does this itself
    (``channels_last=True``, its default); this hook is for the other
    backbones (HG52, HRNet, ResNet, ...), e.g. in ``--preset fast``.
    """

    priority = 'VERY_HIGH'  # before checkpoint loading and compilation

    def before_run(self, runner) -> None:
        model = getattr(runner.model, 'module', runner.model)
        model.to(memory_format=torch.channels_last)
        MMLogger.get_current_instance().info(
            'model converted to channels-last memory format')
