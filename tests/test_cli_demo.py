"""A demo pipeline of our own plugin run by the real `qiime` with
`--parallel`: the same outputs as the serial run, from its own example
data."""
import zipfile

import pytest

from tests.helpers import isolated_env, parallel_config_toml, run_qiime
from tests.test_cli_run import CONFIGS

# Slow: runs the real qiime in subprocesses.
pytestmark = pytest.mark.slow

MIXED = parallel_config_toml(htex='htex', mapping={'step_gc_content': 'htex'})


def data_files(artifact):
    """{path inside data/: bytes} of an artifact."""
    with zipfile.ZipFile(artifact) as archive:
        return {name.split('/data/', 1)[1]: archive.read(name)
                for name in archive.namelist() if '/data/' in name}


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """The home, imported reads and serial output of `gc-content`."""
    home = tmp_path_factory.mktemp('demo')
    env = isolated_env(home)
    example = home / 'example'
    assert run_qiime('parallel', 'gc-content', '--example-data',
                     str(example), env=env).returncode == 0
    reads, = example.glob('*/seqs.fna')
    imported = run_qiime('tools', 'import', '--type', 'SampleSequences',
                         '--input-path', str(reads), '--output-path',
                         str(home / 'reads.qza'), env=env)
    assert imported.returncode == 0, imported.stderr
    serial = gc_content(home, 'serial.qza')
    assert serial.returncode == 0, serial.stderr
    assert data_files(home / 'serial.qza')
    return home


def gc_content(home, output, *options, **env_extra):
    return run_qiime('parallel', 'gc-content', '--i-sequences',
                     str(home / 'reads.qza'), '--p-partitions', '4',
                     '--o-gc-counts', str(home / output), *options,
                     env=isolated_env(home, **env_extra), cwd=home)


def test_demo_with_parallel_and_qiime2_config_equals_serial(demo):
    config = demo / 'threads.toml'
    config.write_text(CONFIGS['threads'])
    result = gc_content(demo, 'threads.qza', '--parallel',
                        QIIME2_CONFIG=config)
    assert result.returncode == 0, result.stderr
    assert (data_files(demo / 'threads.qza')
            == data_files(demo / 'serial.qza'))


def test_demo_with_mixed_parallel_config_equals_serial(demo):
    config = demo / 'mixed.toml'
    config.write_text(MIXED)
    result = gc_content(demo, 'mixed.qza', '--parallel-config', str(config))
    assert result.returncode == 0, result.stderr
    assert data_files(demo / 'mixed.qza') == data_files(demo / 'serial.qza')
