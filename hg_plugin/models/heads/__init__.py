from .stacked_ae_head import StackedAEHead
from .stacked_heatmap_head import StackedHeatmapHead, heatmap_targets

__all__ = ['StackedAEHead', 'StackedHeatmapHead', 'heatmap_targets']
