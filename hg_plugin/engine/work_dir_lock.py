"""One live training per work dir: an OS file lock (``flock``) on
``<work_dir>/.hg_plugin.lock``, held by the training process until it
exits. The OS releases it when the process dies, however it dies, so a
crash or a kill leaves nothing stale to clean up; the file itself stays
(it holds the pid and start time of the last holder, for the message)."""
import fcntl
import os
import os.path as osp
import time
from typing import Dict

LOCK_NAME = '.hg_plugin.lock'
_held: Dict[str, int] = {}  # real path of a work dir -> its lock's fd


class WorkDirBusyError(RuntimeError):
    """Another live process trains into this work dir."""


def hold_work_dir(work_dir: str) -> None:
    """Take ``work_dir``'s lock for the rest of this process (again: a
    no-op), or raise :class:`WorkDirBusyError` naming the dir and the live
    process that holds it. Only the main process of a distributed run
    calls it (``RANK`` 0)."""
    if int(os.environ.get('RANK', '0')) != 0:
        return
    os.makedirs(work_dir, exist_ok=True)
    key = osp.realpath(work_dir)
    if key in _held:
        return
    path = osp.join(work_dir, LOCK_NAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode(errors='replace').strip()
        os.close(fd)
        raise WorkDirBusyError(
            f'{work_dir} is in use by a live training ({holder or "pid ?"}):'
            ' wait for it to finish or stop it, or choose another '
            '--work-dir') from None
    os.ftruncate(fd, 0)
    os.write(fd, f'pid {os.getpid()}, started '
                 f'{time.strftime("%Y-%m-%d %H:%M:%S")}\n'.encode())
    _held[key] = fd
