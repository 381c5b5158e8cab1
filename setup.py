from setuptools import find_packages, setup

setup(
    name='hg_plugin',
    version='0.1.0',
    description="Newell's Stacked Hourglass network (ECCV 2016) as an MMPose 1.x plugin",
    packages=find_packages(include=['hg_plugin', 'hg_plugin.*']),
    python_requires='>=3.9',
    install_requires=['mmpose>=1.3,<1.4', 'mmengine>=0.10,<0.11', 'mmcv>=2.0,<2.2'],
)
