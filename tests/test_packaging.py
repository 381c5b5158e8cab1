"""hg_plugin as a package: one version, a licence, configs found after a
non-editable install, no chumpy or second torch pulled in."""
import json
import os
import subprocess
import sys

import hg_plugin
from tests.conftest import REPO

PIP_ENV = dict(os.environ, PIP_CONFIG_FILE=os.devnull,
               PIP_DISABLE_PIP_VERSION_CHECK='1')


def pip(*args, cwd=REPO):
    return subprocess.run([sys.executable, '-m', 'pip', *map(str, args)],
                          cwd=cwd, env=PIP_ENV, capture_output=True,
                          text=True, timeout=600)


def test_one_version():
    from importlib.metadata import version
    text = (REPO / 'hg_plugin' / 'version.py').read_text()
    assert f"'{hg_plugin.__version__}'" in text
    assert version('hg_plugin') == hg_plugin.__version__  # from pyproject


def test_non_editable_install_ships_configs_and_a_licence(tmp_path):
    target = tmp_path / 'site'
    r = pip('install', '--no-build-isolation', '--no-deps', '--no-index',
            '--target', target, '.')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    code = ('import hg_plugin\n'
            'from mmengine.config import Config\n'
            'path = hg_plugin.config_path("hg2_mpii_256")\n'
            'cfg = Config.fromfile(path)\n'
            'print(hg_plugin.__file__)\n'
            'print(path)\n'
            'print(cfg.model.backbone.num_stacks, cfg.model.backbone.type)')
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([sys.executable, '-c', code], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    module, path, model = r.stdout.strip().splitlines()[-3:]
    assert module.startswith(str(target)) and path.startswith(str(target))
    assert path.endswith('hg_plugin/.mim/configs/hg2_mpii_256.py')
    assert model == '2 StackedHourglass'
    assert (target / 'hg_plugin' / '.mim' / 'configs' / 'mix').is_dir()
    meta = next(target.glob('hg_plugin-*.dist-info'))
    text = (meta / 'METADATA').read_text()
    assert 'License-Expression: Apache-2.0' in text
    assert f'Version: {hg_plugin.__version__}' in text
    assert 'Provides-Extra: onnx' in text
    requires = [line for line in text.splitlines()
                if line.startswith('Requires-Dist:')]
    assert not any('chumpy' in line or 'mmpose' in line for line in requires)
    assert list(meta.rglob('LICENSE'))


def test_install_into_an_mmpose_environment_pulls_nothing(tmp_path):
    """Resolved against this environment only (no index): everything
    hg_plugin requires is already here, so only hg_plugin itself would be
    installed - no chumpy, no second torch."""
    report = tmp_path / 'report.json'
    r = pip('install', '--dry-run', '--no-build-isolation', '--no-index',
            '--report', report, '.')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    names = [item['metadata']['name'].lower()
             for item in json.loads(report.read_text())['install']]
    assert names == ['hg_plugin'] or names == ['hg-plugin'], names


def test_config_path_names_the_shipped_configs():
    assert hg_plugin.config_path('hg8_mpii_256').endswith(
        os.path.join('configs', 'hg8_mpii_256.py'))
    assert hg_plugin.config_path('mix/hg2_coco-wholebody_256x192.py')
    try:
        hg_plugin.config_path('hg9_nothing')
    except FileNotFoundError as e:
        assert 'hg9_nothing' in str(e)
    else:
        raise AssertionError('a missing config was not reported')
