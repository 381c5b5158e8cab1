from .stacked_heatmap_head import StackedHeatmapHead

__all__ = ['StackedHeatmapHead']
