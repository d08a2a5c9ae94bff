"""Fixtures shared by the config tests (tests/test_config_*.py): a private,
world-readable tree for every place the config lookup looks, and running a
function as an unprivileged user, since these tests run as root and root
may read and write anywhere."""
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

DATA = Path(__file__).resolve().parent / 'data' / 'config'
NOBODY = 65534


@pytest.fixture(name='places')
def places_fixture(monkeypatch):
    """Empty config locations, with HOME, XDG_* and the cache pointing into
    a temporary tree and QIIME2_CONFIG, CONDA_PREFIX and Slurm unset."""
    root = Path(tempfile.mkdtemp(prefix='q2p-config-'))
    root.chmod(0o755)
    spot = SimpleNamespace(
        root=root, home=root / 'home',
        user=root / 'home' / '.config' / 'qiime2' / 'qiime2_config.toml',
        site_dirs=[root / 'site-a', root / 'site-b'],
        prefix=root / 'env', cache=root / 'cache')
    spot.site = [d / 'qiime2' / 'qiime2_config.toml' for d in spot.site_dirs]
    spot.conda = spot.prefix / 'etc' / 'qiime2_config.toml'
    spot.home.mkdir()
    monkeypatch.setenv('HOME', str(spot.home))
    monkeypatch.setenv('XDG_CONFIG_HOME', str(spot.home / '.config'))
    monkeypatch.setenv('XDG_CONFIG_DIRS',
                       os.pathsep.join(map(str, spot.site_dirs)))
    monkeypatch.setenv('XDG_CACHE_HOME', str(spot.cache))
    for name in ('QIIME2_CONFIG', 'CONDA_PREFIX', 'SLURM_CPUS_ON_NODE'):
        monkeypatch.delenv(name, raising=False)
    yield spot
    shutil.rmtree(root)


def place(path, text):
    """Write a config file, making its directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_as_nobody(function):
    """function() in a forked child running as user nobody; its result or
    exception comes back pickled. Runs it directly when not root."""
    if os.geteuid() != 0:
        return function()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                outcome = (True, function())
            except Exception as err:
                outcome = (False, err)
            with os.fdopen(write_end, 'wb') as pipe:
                pipe.write(pickle.dumps(outcome))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, 'rb') as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    succeeded, value = pickle.loads(data)
    if not succeeded:
        raise value
    return value
