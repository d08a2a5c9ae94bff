"""Distribution of the q2-parallel QIIME 2 plugin."""
import os
import re

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop

# Installs the q2cli hook at start-up (see q2_parallel/cli/hook.py).
# A .pth file must sit directly in site-packages, which package data cannot do.
CLI_HOOK_PTH = os.path.join('q2_parallel', 'cli', 'q2_parallel-cli.pth')


def read_version():
    with open('q2_parallel/__init__.py') as fh:
        return re.search(r"^__version__ = '([^']+)'", fh.read(), re.M).group(1)


class BuildWithCliHook(build_py):
    """Puts the hook's .pth at the root of wheels (and so of site-packages)."""

    def run(self):
        super().run()
        self.copy_file(CLI_HOOK_PTH, os.path.join(
            self.build_lib, os.path.basename(CLI_HOOK_PTH)))


class DevelopWithCliHook(develop):
    """`pip install -e .` (setup.py develop): puts the hook's .pth in
    site-packages too, and removes it with `develop --uninstall`."""

    def run(self):
        super().run()
        installed = os.path.join(self.install_dir,
                                 os.path.basename(CLI_HOOK_PTH))
        if self.uninstall:
            if os.path.exists(installed):
                os.remove(installed)
        else:
            self.copy_file(CLI_HOOK_PTH, installed)


setup(
    name='q2-parallel',
    version=read_version(),
    description='Run the steps of any QIIME 2 Pipeline in parallel with Parsl',
    license='BSD-3-Clause',
    url='https://github.com/q2-parallel/q2-parallel',
    packages=find_packages(include=['q2_parallel', 'q2_parallel.*']),
    # Tested on Python 3.8 (QIIME 2 2022.11's conda environment) and 3.11
    # (Debian 12); pandas 1.5, which QIIME 2 2022.11 needs, stops at 3.11.
    python_requires='>=3.8,<3.12',
    # qiime2 and q2cli come from the QIIME 2 environment (conda or Debian),
    # not from PyPI.  Parsl: from 2024.10.07 (the newest for Python 3.8);
    # tested with that and with 2026.10.26 (profiles/).  No upper bound:
    # QIIME 2 loads plugins through pkg_resources, which checks these
    # requirements, so a Parsl above a bound would stop every `qiime`
    # command instead of only what a newer Parsl might change.
    # pyzmq: Parsl's, asked whether it can encrypt (CurveZMQ).
    install_requires=['parsl >=2024.10.7', 'pyzmq', 'tomlkit', 'appdirs',
                      'psutil', 'setproctitle', 'typeguard'],
    package_data={
        'q2_parallel': ['citations.bib'],
        'q2_parallel.cli': ['*.pth'],
        'q2_parallel.config': ['templates/*.toml'],
        'q2_parallel.report': ['templates/*'],
    },
    cmdclass={'build_py': BuildWithCliHook, 'develop': DevelopWithCliHook},
    entry_points={
        'qiime2.plugins': ['parallel = q2_parallel.plugin_setup:plugin'],
    },
    zip_safe=False,
)
