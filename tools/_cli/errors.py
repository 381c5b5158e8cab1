"""One clear line for a failure: the exception's last line (a refused
checkpoint global named with its file), Ctrl-C/SIGTERM with where the run
was and the checkpoint to resume from, a full disk; the traceback kept in a
file."""
import errno
import logging
import os
import os.path as osp
import pickle
import signal
import sys
import tempfile
import traceback

from mmengine.logging import MessageHub
from mmengine.runner import find_latest_checkpoint

from hg_plugin.checkpoints import (UnsafeCheckpointError, refused_globals,
                                   unsafe_global)


def route_warnings_to_stdout() -> None:
    """Python warnings (MMPose emits several on every run) go to stdout with
    the rest of the log, so that stderr carries only an error line."""
    logging.captureWarnings(True)
    logger = logging.getLogger('py.warnings')
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.propagate = False


def save_traceback(log_dir: str) -> str:
    """Write the current exception's traceback to ``log_dir/last_error.log``
    or, when that cannot be written (read-only work dir, full disk), to a
    file in the temporary folder; returns where it went."""
    for folder in (log_dir, tempfile.gettempdir()):
        try:
            os.makedirs(folder, exist_ok=True)
            log = osp.join(folder, 'last_error.log' if folder == log_dir
                           else f'hg_plugin_error_{os.getpid()}.log')
            with open(log, 'w') as f:
                traceback.print_exc(file=f)
            return log
        except OSError:
            continue
    return 'not saved: no writable folder'


def run_reporting_errors(main, log_dir: str = 'work_dirs',
                         checkpoint=None) -> None:
    """Run ``main()``; on an exception print ``error: <last line>`` to stderr
    (a DataLoader worker's error is unwrapped to its own last line; a
    checkpoint global refused by torch's weights-only loader is named with
    the file), save the traceback (:func:`save_traceback`) and exit with
    status 1. Ctrl-C (exit 130) and SIGTERM (exit 143) print where the run
    was and the last complete checkpoint; a full disk says so, with the
    file and the checkpoint to resume from (temporaries were removed by the
    atomic writes)."""

    received = []  # the signal, even if library code swallows the raise

    def terminated(signum, frame):
        received.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, terminated)
                for sig in (signal.SIGTERM, signal.SIGINT)
                if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B902 - everything gets one line
        if received or isinstance(e, (KeyboardInterrupt, Interrupted)):
            # MMEngine turns an exception raised while it formats the config
            # (pretty_text, at every checkpoint) into a SyntaxError: the
            # signal that caused it decides
            interrupted(e, received, log_dir)
        if not isinstance(e, OSError) or e.errno != errno.ENOSPC:
            exit_one_line(e, log_dir, checkpoint)
        log = save_traceback(log_dir)  # falls back to the temp folder
        what = f' writing {e.filename}' if e.filename else ''
        sys.exit(f'error: disk full{what}: free space, then '
                 f'{resume_hint(log_dir)} (traceback: {log})')
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def interrupted(e, received, log_dir) -> None:
    """Exit 130 (Ctrl-C) or 143 (SIGTERM) with one line saying where the
    run was and what to resume from."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)  # one line, not two
    sigint = (received[0] == signal.SIGINT) if received else \
        isinstance(e, KeyboardInterrupt)
    if not isinstance(e, (KeyboardInterrupt, Interrupted)):
        e = KeyboardInterrupt() if sigint else Interrupted('SIGTERM')
    save_traceback(log_dir)
    print(interrupted_line(e, log_dir), file=sys.stderr)
    sys.exit(130 if sigint else 143)


def exit_one_line(e, log_dir, checkpoint) -> None:
    """Exit with 'error: <the exception's last line> (traceback: ...)'."""
    name = isinstance(e, pickle.UnpicklingError) and unsafe_global(e)
    if name:
        e = UnsafeCheckpointError(
            checkpoint or 'to load',
            refused_globals(checkpoint, name) if checkpoint else [name])
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    message = lines[-1] if lines else type(e).__name__
    if not message.startswith(type(e).__name__) and ':' not in \
            message.split(' ')[0]:
        message = f'{type(e).__name__}: {message}'
    log = save_traceback(log_dir)
    sys.exit(f'error: {message} (traceback: {log})')


class Interrupted(BaseException):
    """SIGTERM, raised where the run is, like KeyboardInterrupt for Ctrl-C."""


def interrupted_line(e, work_dir: str) -> str:
    """'interrupted at epoch E iter I; ...': where the run was (MMEngine's
    message hub) and the last complete checkpoint to resume from."""
    what = 'interrupted' if isinstance(e, KeyboardInterrupt) else \
        f'terminated ({e})'
    where = ''
    try:
        info = MessageHub.get_current_instance().runtime_info
        if 'epoch' in info or 'iter' in info:
            where = (f" at epoch {info.get('epoch', 0) + 1} iter "
                     f"{info.get('iter', 0) + 1}")
    except Exception:  # no run started yet
        pass
    return f'{what}{where}; {resume_hint(work_dir)}'


def resume_hint(work_dir: str) -> str:
    """'last complete checkpoint X; resume with --resume', or that there is
    none (MMEngine's ``find_latest_checkpoint``: the ``last_checkpoint``
    file, kept pointing at complete files by the atomic writes)."""
    try:
        last = find_latest_checkpoint(work_dir)
    except OSError:
        last = None
    if last and osp.isfile(last):
        return f'last complete checkpoint {last}; resume with --resume'
    return 'no checkpoint saved yet; start again to train from scratch'
