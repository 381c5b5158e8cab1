from .checkpoint_check import check_checkpoint
from .config_check import check_config
from .data_check import (find_missing_data, invalid_records,
                         missing_data_message)

__all__ = ['check_checkpoint', 'check_config', 'find_missing_data',
           'invalid_records', 'missing_data_message']
