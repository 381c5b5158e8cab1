from .cli import route_warnings_to_stdout, run_reporting_errors
from .checkpoint_check import check_checkpoint
from .config_check import check_config
from .data_check import find_missing_data, missing_data_message

__all__ = ['check_checkpoint', 'check_config', 'find_missing_data', 'missing_data_message',
           'route_warnings_to_stdout', 'run_reporting_errors']
