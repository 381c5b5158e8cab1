from .inference import (CheckpointMismatchError, init_checked_model,
                        preprocess_box, stack_heatmaps)

__all__ = ['CheckpointMismatchError', 'init_checked_model', 'preprocess_box',
           'stack_heatmaps']
