from .inference import preprocess_box, stack_heatmaps

__all__ = ['preprocess_box', 'stack_heatmaps']
