"""Thin shim: the metadata lives in pyproject.toml. What is left here is
the one build step that needs code: the repository's configs/ go into the
built package as hg_plugin/.mim/configs (the layout MMPose uses for its own),
so a non-editable install finds them (``hg_plugin.config_path``). Editable
installs read configs/ in place."""
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))


class BuildPyWithConfigs(build_py):

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        dst = osp.join(self.build_lib, 'hg_plugin', '.mim', 'configs')
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(osp.join(HERE, 'configs'), dst,
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


setup(cmdclass={'build_py': BuildPyWithConfigs})
