"""Checkpoints: loading them weights-only (:mod:`.safe_load`), converting
the public reference implementations' (:mod:`.convert`), and saying which
model/config a checkpoint fits (:mod:`.fit`)."""
from .convert import (BEARPAW_MPII_MEAN, ConversionError, convert,
                      data_preprocessor, strip_prefix)
from .fit import check_checkpoint, fitting_configs
from .safe_load import (SAFE_GLOBALS, UnsafeCheckpointError, allow_globals,
                        load_checkpoint, refused_globals, unsafe_global)
from .state_dict_args import hourglass_kwargs

__all__ = [
    'BEARPAW_MPII_MEAN', 'ConversionError', 'SAFE_GLOBALS',
    'UnsafeCheckpointError', 'allow_globals', 'check_checkpoint', 'convert',
    'data_preprocessor', 'fitting_configs', 'hourglass_kwargs',
    'load_checkpoint', 'refused_globals', 'strip_prefix', 'unsafe_global'
]
