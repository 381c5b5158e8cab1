"""One clear line for a failed run, the full traceback kept in a file."""
import logging
import os
import os.path as osp
import sys
import traceback


def route_warnings_to_stdout() -> None:
    """Python warnings (MMPose emits several on every run) go to stdout with
    the rest of the log, so that stderr carries only an error line."""
    logging.captureWarnings(True)
    logger = logging.getLogger('py.warnings')
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.propagate = False


def run_reporting_errors(main, log_dir: str = 'work_dirs') -> None:
    """Run ``main()``; on an exception print ``error: <last line>`` to stderr
    (a DataLoader worker's error is unwrapped to its own last line), save
    the traceback to ``log_dir/last_error.log`` and exit with status 1."""
    try:
        main()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as e:  # noqa: B902 - everything gets one line
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        message = lines[-1] if lines else type(e).__name__
        if not message.startswith(type(e).__name__) and ':' not in \
                message.split(' ')[0]:
            message = f'{type(e).__name__}: {message}'
        os.makedirs(log_dir, exist_ok=True)
        log = osp.join(log_dir, 'last_error.log')
        with open(log, 'w') as f:
            traceback.print_exc(file=f)
        sys.exit(f'error: {message} (traceback: {log})')
