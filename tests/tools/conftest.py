from types import SimpleNamespace

import pytest

from tests.conftest import REPO
from tests.tools.test_train_test_resume import options, run


@pytest.fixture(scope='session')
def hg2_epoch1(mpii_root, tmp_path_factory):
    """configs/hg2_mpii_256.py (narrow) trained once for one epoch on the 5
    real MPII samples by tools/train.py --no-validate: ``work`` (holding
    ``epoch_1.pth``; read, never written, by the tests), ``checkpoint`` and
    the run's ``log``. One training serves every test that needs it."""
    work = tmp_path_factory.mktemp('hg2_epoch1') / 'work'
    r = run('tools/train.py', REPO / 'configs' / 'hg2_mpii_256.py',
            '--work-dir', work, '--no-validate', *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return SimpleNamespace(work=work, checkpoint=work / 'epoch_1.pth',
                           log=r.stdout)
