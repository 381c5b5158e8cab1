from .stacked_hourglass import (Hourglass, Residual, StackedHourglass,
                                fold_dead_biases, hourglass_stride)
from .state_dict_fit import (CheckpointMismatchError, describe_mismatch,
                             set_mismatch_hint)

__all__ = ['CheckpointMismatchError', 'Hourglass', 'Residual',
           'StackedHourglass', 'describe_mismatch', 'fold_dead_biases',
           'hourglass_stride', 'set_mismatch_hint']
