from .stacked_ae_head import StackedAEHead
from .stacked_heatmap_head import StackedHeatmapHead

__all__ = ['StackedAEHead', 'StackedHeatmapHead']
