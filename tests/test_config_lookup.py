"""Which config is in effect when none is named: one test per lookup step,
each building exactly its situation in a private tree (see `places`)."""
import pytest

from q2_parallel.config import (ConfigError, default_config_text,
                                find_config, load_config)

from .test_config_fixtures import (DATA, place, places_fixture,  # noqa: F401
                                   run_as_nobody)

SPEC_TEXT = (DATA / 'spec-7-workers.toml').read_text()


def labelled(label):
    """A valid config whose one executor is labelled default and whose
    mapping says where it came from."""
    return ('[parsl]\n[[parsl.executors]]\nclass = "ThreadPoolExecutor"\n'
            'label = "default"\n[parsl.executor_mapping]\n'
            f'from_{label} = "default"\n')


def place_everywhere(places, monkeypatch):
    """A config at every step's location (and CONDA_PREFIX set)."""
    place(places.user, labelled('user'))
    for path in places.site:
        place(path, labelled(path.parent.parent.name))
    place(places.conda, labelled('conda'))
    monkeypatch.setenv('CONDA_PREFIX', str(places.prefix))


def test_step1_qiime2_config_wins(places, monkeypatch, tmp_path):
    place_everywhere(places, monkeypatch)
    named = place(tmp_path / 'mine.toml', labelled('env'))
    monkeypatch.setenv('QIIME2_CONFIG', str(named))
    found = find_config()
    assert (found.path, found.step) == (named, 'env')
    assert '$QIIME2_CONFIG' in found.reason


@pytest.mark.parametrize('name, words', [('missing.toml', 'does not exist'),
                                         ('', 'is a directory')])
def test_step1_unusable_qiime2_config(places, monkeypatch, tmp_path, name,
                                      words):
    monkeypatch.setenv('QIIME2_CONFIG', str(tmp_path / name))
    with pytest.raises(ConfigError) as caught:
        find_config()
    message = str(caught.value)
    assert f'$QIIME2_CONFIG names {tmp_path / name}, which {words}' in message
    assert 'unset it' in message


def test_step1_unreadable_qiime2_config(places, monkeypatch):
    named = place(places.root / 'private.toml', labelled('env'))
    named.chmod(0o600)  # readable by its owner (root) only
    monkeypatch.setenv('QIIME2_CONFIG', str(named))
    with pytest.raises(ConfigError, match='cannot be read'):
        run_as_nobody(find_config)


def test_step2_user_config_dir(places, monkeypatch):
    place_everywhere(places, monkeypatch)
    config, mapping, found = load_config()
    assert (found.path, found.step) == (places.user, 'user')
    assert 'step 2' in found.reason
    assert mapping == {'from_user': 'default'}  # a found file's mapping


def test_step3_site_config_dirs_in_order(places, monkeypatch):
    place(places.site[1], labelled('site-b'))
    found = find_config()
    assert (found.path, found.step) == (places.site[1], 'site')
    assert f'no {places.user}' in found.reason
    place(places.site[0], labelled('site-a'))
    assert find_config().path == places.site[0]


def test_step4_conda_prefix(places, monkeypatch):
    place(places.conda, labelled('conda'))
    monkeypatch.setenv('CONDA_PREFIX', str(places.prefix))
    _, mapping, found = load_config()
    assert (found.path, found.step) == (places.conda, 'conda')
    assert mapping == {'from_conda': 'default'}


def test_step5_writes_the_default_then_step4_finds_it(places, monkeypatch):
    (places.prefix / 'etc').mkdir(parents=True)
    monkeypatch.setenv('CONDA_PREFIX', str(places.prefix))
    config, mapping, found = load_config()
    assert (found.path, found.step) == (places.conda, 'written')
    assert places.conda.read_text() == default_config_text()
    assert [e.label for e in config.executors] == ['default', 'htex']
    assert mapping == {}
    assert find_config().step == 'conda'


def test_step5_without_conda_prefix_uses_memory(places):
    config, mapping, found = load_config()
    assert (found.path, found.step) == (None, 'memory')
    assert '$CONDA_PREFIX is not set' in found.reason
    assert [e.label for e in config.executors] == ['default', 'htex']
    assert list(places.root.rglob('*.toml')) == []


@pytest.mark.parametrize('etc', ['missing', 'a file'])
def test_step5_without_etc_directory_uses_memory(places, monkeypatch, etc):
    places.prefix.mkdir()
    if etc == 'a file':
        (places.prefix / 'etc').write_text('')
    monkeypatch.setenv('CONDA_PREFIX', str(places.prefix))
    found = find_config()
    assert (found.path, found.step) == (None, 'memory')
    assert 'is not a directory' in found.reason
    assert list(places.prefix.iterdir()) == (
        [places.prefix / 'etc'] if etc == 'a file' else [])


def test_step5_read_only_prefix_uses_memory(places, monkeypatch):
    etc = places.prefix / 'etc'
    etc.mkdir(parents=True)
    etc.chmod(0o555)  # a shared environment installed by someone else
    monkeypatch.setenv('CONDA_PREFIX', str(places.prefix))
    found = run_as_nobody(find_config)
    assert (found.path, found.step) == (None, 'memory')
    assert 'could not be written' in found.reason
    assert list(etc.iterdir()) == []


def test_lookup_without_writing_says_where_it_would_write(places,
                                                          monkeypatch):
    (places.prefix / 'etc').mkdir(parents=True)
    monkeypatch.setenv('CONDA_PREFIX', str(places.prefix))
    found = find_config(write_default=False)
    assert (found.path, found.step) == (None, 'memory')
    assert str(places.conda) in found.reason
    assert not places.conda.exists()


def test_named_file_skips_the_lookup(places, monkeypatch, tmp_path):
    monkeypatch.setenv('QIIME2_CONFIG', str(tmp_path / 'missing.toml'))
    named = place(tmp_path / 'spec.toml', SPEC_TEXT)
    _, mapping, found = load_config(named)
    assert (found.path, found.step) == (named, 'given')
    assert mapping == {'some_action': 'htex'}


def test_mapping_only_file_cannot_run(places):
    place(places.user, (DATA / 'mapping-only.toml').read_text())
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert f'{places.user}, key `parsl.executors`' in str(caught.value)
