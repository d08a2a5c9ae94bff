"""Distribution of the q2-parallel QIIME 2 plugin."""
import re

from setuptools import find_packages, setup


def read_version():
    with open('q2_parallel/__init__.py') as fh:
        return re.search(r"^__version__ = '([^']+)'", fh.read(), re.M).group(1)


setup(
    name='q2-parallel',
    version=read_version(),
    description='Run the steps of any QIIME 2 Pipeline in parallel with Parsl',
    license='BSD-3-Clause',
    url='https://github.com/q2-parallel/q2-parallel',
    packages=find_packages(include=['q2_parallel', 'q2_parallel.*']),
    python_requires='>=3.8',
    # qiime2 and q2cli come from the QIIME 2 environment (conda or Debian),
    # not from PyPI.
    install_requires=['parsl', 'tomlkit', 'appdirs', 'psutil'],
    package_data={
        'q2_parallel': ['citations.bib'],
    },
    entry_points={
        'qiime2.plugins': ['parallel = q2_parallel.plugin_setup:plugin'],
    },
    zip_safe=False,
)
