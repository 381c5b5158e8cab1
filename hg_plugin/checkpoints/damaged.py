"""An unreadable checkpoint named before anything loads it: an empty file,
or a zip archive (torch's format since 1.6) whose index or contents are
cut short or damaged - a partial copy, a write that another tool ran out of
disk for. The message names the file and the newest readable checkpoint
beside it with the command to use it; nothing is deleted or overwritten."""
import glob
import os
import os.path as osp
import zipfile
from typing import Optional

ZIP_MAGIC = b'PK\x03\x04'


def unreadable(path: str) -> Optional[str]:
    """Why the checkpoint file ``path`` cannot be loaded, or None (for a
    readable one, and for what this cannot judge: a missing file or URL,
    the legacy pickle format)."""
    if not osp.isfile(path):
        return None
    if osp.getsize(path) == 0:
        return 'the file is empty'
    with open(path, 'rb') as f:
        if f.read(4) != ZIP_MAGIC:
            return None
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()  # reads every member, checks its CRC
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f'truncated or damaged: {e}'
    if bad is not None:
        return f'damaged: member {bad} fails its checksum'
    return None


def newest_readable_beside(path: str) -> Optional[str]:
    """The newest (by modification time) readable ``*.pth`` in the folder of
    ``path``, other than ``path``."""
    folder = osp.dirname(osp.abspath(path))
    others = [p for p in glob.glob(osp.join(glob.escape(folder), '*.pth'))
              if osp.abspath(p) != osp.abspath(path)]
    for p in sorted(others, key=osp.getmtime, reverse=True):
        if unreadable(p) is None:
            return p
    return None


HOW = {
    'resume': 'resume from it with --resume {}',
    'load_from': 'load it instead: load_from={}',
    'test': 'test it instead: tools/test.py <config> {}',
}


def damaged_checkpoint_message(path: str, how: str = 'resume'
                               ) -> Optional[str]:
    """One line naming the unreadable checkpoint ``path``, and the newest
    readable one beside it with what to run (``how``: 'resume',
    'load_from' or 'test'); None when ``path`` is readable."""
    why = unreadable(path)
    if why is None:
        return None
    other = newest_readable_beside(path)
    fix = f'the newest readable checkpoint beside it is {other}: ' + \
        HOW[how].format(other) if other else \
        'no readable checkpoint is beside it'
    return f'checkpoint {path} cannot be read ({why}); {fix} ' \
        '(nothing was deleted)'
