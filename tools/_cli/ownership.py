"""One rule for every tool that writes files: it never writes over its own
input, and it overwrites only what it wrote itself.

Before any work, :func:`guard_outputs` refuses (one line, exit 1) an output
that is one of the inputs (the same file after resolving links), and an
existing output that this tool did not write - unless ``--force``. What a
tool wrote is recorded by :func:`record_outputs` in ``.hg_plugin_outputs.json``
in the output's folder: file name -> tool and SHA-256 of the content, so a
file the user edited since counts as theirs (``cp -i`` asks there too), and
the record survives a ``git clone`` (content, not timestamps)."""
import hashlib
import json
import os
import os.path as osp
import sys
from typing import Iterable

MANIFEST = '.hg_plugin_outputs.json'


def same_file(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same file (links resolved)."""
    if osp.exists(a) and osp.exists(b):
        return osp.samefile(a, b)
    return osp.realpath(a) == osp.realpath(b)


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _manifest(folder: str) -> dict:
    try:
        with open(osp.join(folder, MANIFEST)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def written_by(path: str, tool: str) -> bool:
    """Whether ``path`` is, byte for byte, what ``tool`` last wrote there."""
    entry = _manifest(osp.dirname(osp.abspath(path))).get(osp.basename(path))
    return bool(entry) and entry.get('tool') == tool and osp.isfile(path) \
        and entry.get('sha256') == sha256(path)


def guard_outputs(outputs: Iterable[str], inputs: Iterable[str], tool: str,
                  force: bool = False, flag: str = 'output') -> None:
    """Exit with one line before any work when an output is an input, or
    exists and was not written by ``tool`` (without ``force``)."""
    inputs = [i for i in inputs if i]
    for out in outputs:
        for inp in inputs:
            if same_file(out, inp):
                sys.exit(f'error: {flag} {out} is the input {inp}: writing '
                         'it would destroy the input; choose another '
                         f'{flag}')
        if osp.isdir(out):
            sys.exit(f'error: {flag} {out} is a folder; give a file name')
        if osp.exists(out) and not force and not written_by(out, tool):
            sys.exit(f'error: {flag} {out} exists and was not written by '
                     f'{tool}: choose another {flag}, or add --force to '
                     'overwrite it')


def record_outputs(outputs: Iterable[str], tool: str) -> None:
    """Note in each output's folder that ``tool`` wrote it (this content)."""
    by_folder = {}
    for out in outputs:
        if osp.isfile(out):
            by_folder.setdefault(osp.dirname(osp.abspath(out)), []).append(out)
    for folder, files in by_folder.items():
        manifest = _manifest(folder)
        for out in files:
            manifest[osp.basename(out)] = dict(tool=tool, sha256=sha256(out))
        tmp = osp.join(folder, f'{MANIFEST}.tmp{os.getpid()}')
        with open(tmp, 'w') as f:
            json.dump(dict(sorted(manifest.items())), f, indent=1)
            f.write('\n')
        os.replace(tmp, osp.join(folder, MANIFEST))
