"""QIIME 2 plugin used only by the tests of q2-parallel."""
from setuptools import setup

setup(
    name='q2-paralleltest',
    version='0.1.0',
    packages=['q2_paralleltest'],
    entry_points={
        'qiime2.plugins':
            ['paralleltest = q2_paralleltest.plugin_setup:plugin'],
    },
    zip_safe=False,
)
