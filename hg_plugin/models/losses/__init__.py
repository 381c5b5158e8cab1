from .multi_stack_heatmap_loss import MultiStackHeatmapLoss

__all__ = ['MultiStackHeatmapLoss']
