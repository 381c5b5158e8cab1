"""What the command-line tools share (CLI code, not part of the library),
one module per concern: :mod:`.errors` (one line for a failure),
:mod:`.mmpose_config` (the config as MMPose's tools load it),
:mod:`.outputs` (where tools write), :mod:`.ownership` (never over an
input, only over what the tool wrote), :mod:`.speed` (speed flags as config
keys), :mod:`.run` (a checked run). ``tools/*.py`` import it as ``_cli``
(Python puts the script's folder first on ``sys.path``)."""
from .errors import (Interrupted, exit_one_line, interrupted_line,
                     resume_hint, route_warnings_to_stdout,
                     run_reporting_errors, save_traceback)
from .mmpose_config import (adapt_cfg_to_device, add_mmpose_args,
                            load_config, mmpose_tool)
from .ownership import guard_outputs, record_outputs, same_file
from .outputs import (check_output_path, save_metrics_hook,
                      work_dir_problem, write_error)
from .run import init_or_exit, release_distributed, run_checked
from .speed import add_speed_args, apply_speed_args

__all__ = [
    'Interrupted', 'adapt_cfg_to_device', 'add_mmpose_args',
    'add_speed_args', 'apply_speed_args', 'check_output_path',
    'exit_one_line', 'guard_outputs', 'init_or_exit', 'interrupted_line',
    'load_config',
    'mmpose_tool', 'record_outputs', 'release_distributed', 'resume_hint',
    'route_warnings_to_stdout', 'run_checked', 'run_reporting_errors',
    'same_file', 'save_metrics_hook', 'save_traceback', 'work_dir_problem',
    'write_error'
]
