"""Registration of the ``parallel`` QIIME 2 plugin."""
from qiime2.plugin import Citations, Plugin

import q2_parallel

citations = Citations.load('citations.bib', package='q2_parallel')

plugin = Plugin(
    name='parallel',
    version=q2_parallel.__version__,
    website='https://github.com/q2-parallel/q2-parallel',
    package='q2_parallel',
    description=(
        'q2-parallel runs the steps of QIIME 2 Pipelines in parallel with '
        'Parsl, on the cores of one machine or the nodes of a cluster. Any '
        'Pipeline of any installed plugin gains `--parallel` and '
        '`--parallel-config` on the command line and `.parallel()` in the '
        'Artifact API. This plugin also registers demo pipelines that share '
        'split-apply-combine steps on DNA sequences.'),
    short_description='Run QIIME 2 Pipelines in parallel with Parsl.',
    citations=[citations['bolyen2019qiime2'], citations['babuji2019parsl']],
)
