"""The model dicts that put Newell's hourglass and its stacked heatmap head
in place of a config's own backbone and head: one source for the shipped
COCO and mix configs and for ``tools/mix_config.py``'s rules.

A config inheriting an MMPose zoo config writes::

    from hg_plugin.model_configs import hourglass_model  # noqa: E402
    model = hourglass_model(num_stacks=2, num_keypoints=21,
                            decoder=_base_.codec)

and keeps the base's data preprocessor and test settings.
"""
from typing import Dict, Optional


def hourglass_backbone(num_stacks: int, num_keypoints: int,
                       **kwargs) -> Dict:
    """``StackedHourglass`` replacing the base's backbone (``_delete_``);
    ``kwargs``: other backbone arguments (``feat_channels``, ``depth``...);
    the backbone's defaults are not restated."""
    return dict(_delete_=True, type='StackedHourglass', num_stacks=num_stacks,
                num_keypoints=num_keypoints, **kwargs)


def stacked_heatmap_head(num_stacks: int, num_keypoints: int, decoder: Dict,
                         loss: Optional[Dict] = None) -> Dict:
    """``StackedHeatmapHead`` replacing the base's head: ``loss`` on every
    stack (the head's default, ``MultiStackHeatmapLoss``, when None)."""
    head = dict(_delete_=True, type='StackedHeatmapHead',
                num_stacks=num_stacks, out_channels=num_keypoints,
                decoder=decoder)
    if loss is not None:
        head['loss'] = loss
    return head


def hourglass_model(num_stacks: int, num_keypoints: int, decoder: Dict,
                    loss: Optional[Dict] = None, **backbone) -> Dict:
    """``model`` overrides: the hourglass backbone and its stacked head."""
    return dict(
        backbone=hourglass_backbone(num_stacks, num_keypoints, **backbone),
        head=stacked_heatmap_head(num_stacks, num_keypoints, decoder, loss))
