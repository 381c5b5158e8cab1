"""Where the tools write: a work dir that can take logs and checkpoints,
an output file that can be written, checked before the work."""
import os
import os.path as osp
import sys
import tempfile

import mmengine
from mmengine.hooks import Hook


def write_error(folder: str):
    """Why ``folder`` cannot be created or written into (the OS's words), or
    None: what MMEngine and the tools do next anyway, tried first."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        return e.strerror
    return None


def work_dir_problem(work_dir: str):
    """Why ``work_dir`` cannot take logs and checkpoints, or None."""
    if osp.exists(work_dir) and not osp.isdir(work_dir):
        return (f'--work-dir {work_dir} is an existing file, not a folder: '
                'choose another --work-dir')
    why = write_error(work_dir)
    if why:
        return (f'--work-dir {work_dir} cannot be written ({why}): '
                'choose another --work-dir')
    return None


def check_output_path(path: str, flag: str = '--out') -> None:
    """Exit with one line when the file ``path`` could not be written (its
    folder cannot be created or written, or it is a folder): checked before
    the work whose result it would hold."""
    if osp.isdir(path):
        sys.exit(f'error: {flag} {path} is a folder; give a file name')
    folder = osp.dirname(osp.abspath(path))
    why = write_error(folder)
    if why:
        sys.exit(f'error: {flag} {path}: {folder} cannot be written '
                 f'({why}); choose another {flag}')


def save_metrics_hook(path: str):
    """MMPose's ``--out``: the test metrics written to ``path``. The folder
    is checked for writing before the evaluation starts."""
    check_output_path(path)

    class SaveMetricHook(Hook):
        def after_test_epoch(self, runner, metrics=None):
            if metrics is None:
                return
            try:
                mmengine.dump(metrics, path)
            except OSError as e:  # e.g. the disk filled up meanwhile
                print(f'metrics: {metrics}')  # never lost
                sys.exit(f'error: --out {path} could not be written '
                         f'({e.strerror}); the metrics are printed above')

    return SaveMetricHook()
