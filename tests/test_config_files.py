"""Config files and dicts -> parsl.Config + mapping: the spec's format, its
meeting with today's Parsl, and an error a user can act on for each kind of
mistake, naming the file and the key path."""
import copy
import importlib.util
import inspect
import os
import subprocess
import sys
import threading

import psutil
import pytest
import tomlkit

import q2_parallel
from q2_parallel.config import (ConfigError, default_run_dir,
                                get_config_from_dict, get_config_from_file,
                                normalised)

from .test_config_fixtures import DATA, places_fixture  # noqa: F401

SPEC = DATA / 'spec-7-workers.toml'


def one_executor(**keys):
    """A config dict with a single ThreadPoolExecutor labelled default."""
    executor = {'class': 'ThreadPoolExecutor', 'label': 'default', **keys}
    return {'parsl': {'executors': [executor]}}


def with_htex(**keys):
    """A config dict: the default thread pool and an HTEX given `keys`."""
    document = one_executor()
    document['parsl']['executors'].append(
        {'class': 'HighThroughputExecutor', 'label': 'htex', **keys})
    return document


def assert_spec_objects(config, workers=7):
    """The objects the spec shows for its 7-worker file."""
    from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
    from parsl.providers import LocalProvider
    threads, htex = config.executors
    assert type(threads) is ThreadPoolExecutor
    assert (threads.label, threads.max_threads) == ('default', workers)
    assert type(htex) is HighThroughputExecutor
    assert (htex.label, htex.max_workers_per_node) == ('htex', workers)
    assert type(htex.provider) is LocalProvider
    assert htex.address == '127.0.0.1'
    assert config.strategy == 'none'  # Parsl's current spelling of None


def test_spec_file_gives_the_spec_objects_and_mapping(places):
    config, mapping = get_config_from_file(SPEC)
    assert_spec_objects(config)
    assert mapping == {'some_action': 'htex'}


def test_spec_file_without_mapping_gives_an_empty_mapping(places):
    config, mapping = get_config_from_file(
        DATA / 'spec-7-workers-no-mapping.toml')
    assert_spec_objects(config)
    assert mapping == {}


def test_spec_dict_gives_the_same_as_the_file(places):
    document = tomlkit.parse(SPEC.read_text()).unwrap()
    config, mapping = get_config_from_dict(document)
    assert_spec_objects(config)
    assert mapping == {'some_action': 'htex'}


def test_mapping_only_file_gives_no_config(places):
    config, mapping = get_config_from_file(DATA / 'mapping-only.toml')
    assert config is None
    assert mapping == {'some_action': 'htex', 'denoise-paired': 'htex',
                       'feature-table': {'summarize': 'default'}}


def test_public_names_come_from_the_package_without_parsl():
    code = ('import sys, q2_parallel; q2_parallel.get_config_from_file;'
            ' q2_parallel.get_config_from_dict; q2_parallel.ConfigError;'
            ' import q2_parallel.config;'
            ' print(sorted(m for m in sys.modules if m.startswith("parsl")))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == '[]'
    assert q2_parallel.get_config_from_file is get_config_from_file


def test_out_of_order_tables_reach_parsl_as_plain_values(places):
    config, mapping = get_config_from_file(DATA / 'out-of-order.toml')
    threads, htex = config.executors
    assert [type(s).__name__ for s in threads.storage_access] == [
        'NoOpFileStaging']
    assert htex.worker_port_range == (54100, 54200)
    assert type(htex.provider.launcher).__name__ == 'SingleNodeLauncher'
    assert type(config.retries) is int and config.retries == 2
    assert type(mapping) is dict and mapping == {'some_action': 'htex'}
    assert type(next(iter(mapping.values()))) is str


def test_tomlkit_document_is_unwrapped_and_never_changed(places):
    document = tomlkit.parse(SPEC.read_text())
    before = document.as_string()
    config, mapping = get_config_from_dict(document)
    assert type(config.executors[0].max_threads) is int
    assert type(mapping['some_action']) is str
    assert document.as_string() == before


def test_callers_dict_is_never_changed(places):
    document = with_htex(max_workers=3, provider={'class': 'LocalProvider'})
    document['parsl']['strategy'] = 'None'
    document['parsl']['executor_mapping'] = {'a': 'htex'}
    before = copy.deepcopy(document)
    _, mapping = get_config_from_dict(document)
    mapping['a'] = 'default'
    assert document == before


def parsl_default(cls, keyword):
    """The default of `keyword` in the installed Parsl's `cls`."""
    return inspect.signature(cls).parameters[keyword].default


def test_none_becomes_none_only_where_parsl_accepts_it(places):
    from parsl.executors import ThreadPoolExecutor
    document = one_executor(thread_name_prefix='None', working_dir='None')
    document['parsl']['executors'].append({
        'class': 'HighThroughputExecutor', 'label': 'htex',
        'provider': {'class': 'LocalProvider', 'worker_init': 'None'}})
    config, _ = get_config_from_dict(document)
    threads, htex = config.executors
    assert threads.working_dir is None            # Optional[str] everywhere
    assert htex.provider.worker_init == 'None'    # a str-only keyword
    # str = '' up to Parsl 2024.10; str | None = None later, where None
    # has Parsl name the threads after the label
    if parsl_default(ThreadPoolExecutor, 'thread_name_prefix') is None:
        assert threads.thread_name_prefix != 'None'
    else:
        assert threads.thread_name_prefix == 'None'


def test_max_workers_means_max_workers_per_node(places):
    config, _ = get_config_from_dict(with_htex(max_workers=3))
    assert config.executors[1].max_workers_per_node == 3


def test_limits_parsl_handles_itself_are_left_to_parsl(places):
    document = with_htex(mem_per_worker=0)   # Parsl: no memory limit
    document['parsl']['retries'] = -1        # Parsl: as 0
    config, _ = get_config_from_dict(document)
    assert config.retries == -1
    assert config.executors[1].mem_per_worker == 0


def test_channels_follow_the_installed_parsl(places):
    document = with_htex(provider={'class': 'LocalProvider',
                                   'channel': {'class': 'LocalChannel'}})
    key = 'parsl.executors[1].provider.channel'
    if importlib.util.find_spec('parsl.channels') is not None:  # <= 2024.10
        config, _ = get_config_from_dict(document)
        channel = config.executors[1].provider.channel
        assert type(channel).__name__ == 'LocalChannel'
        document['parsl']['executors'][1]['provider']['channel'] = {
            'class': 'LocalProvider'}
        key += '.class'
        words = ('"LocalProvider" is a provider class, but a channel class'
                 ' is needed here. Write one of: LocalChannel')
    else:
        words = 'The installed Parsl has no channels'
    with pytest.raises(ConfigError) as caught:
        get_config_from_dict(document)
    assert caught.value.key == key
    assert words in str(caught.value)
    if key.endswith('.class'):  # a Parsl with channels never denies them
        assert 'no channels' not in str(caught.value)


def test_an_object_keyword_without_a_hint_takes_its_family(places):
    """A keyword Parsl gives no type hint takes any class of its default's
    family, as Parsl's own base class of the family says."""
    from parsl.launchers.base import Launcher
    from parsl.launchers import SingleNodeLauncher

    from q2_parallel.config.parsl_api import EMPTY, Param
    from q2_parallel.config.values import _hint
    assert _hint(Param('launcher', EMPTY, SingleNodeLauncher())) is Launcher


def test_local_htex_without_address_gets_loopback(places):
    for keys in ({}, {'provider': {'class': 'LocalProvider'}},
                 {'address': 'None'}):
        config, _ = get_config_from_dict(with_htex(**keys))
        assert config.executors[1].address == '127.0.0.1'


def test_cluster_htex_may_set_loopback_explicitly(places):
    config, _ = get_config_from_file(DATA / 'slurm-single-node.toml')
    htex = config.executors[0]
    assert htex.address == '127.0.0.1'
    assert type(htex.provider).__name__ == 'SlurmProvider'
    assert htex.provider.partition == 'debug'
    assert type(htex.provider.launcher).__name__ == 'SrunLauncher'


def test_run_dir_defaults_to_the_user_cache(places):
    config, _ = get_config_from_file(SPEC)
    assert config.run_dir == str(places.cache / 'qiime2' / 'parallel'
                                 / 'runinfo')
    document = one_executor()
    document['parsl']['run_dir'] = '~/runs'
    config, _ = get_config_from_dict(document)
    assert config.run_dir == str(places.home / 'runs')


def test_an_explicit_runinfo_in_a_file_is_kept(places, monkeypatch):
    monkeypatch.chdir(places.root)
    document = one_executor()
    document['parsl']['run_dir'] = 'runinfo'
    config, _ = get_config_from_dict(document)
    assert config.run_dir == str(places.root / 'runinfo')
    assert normalised(config).run_dir == config.run_dir


def test_normalised_reads_a_python_config_as_files_are_read(places):
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor
    config = Config(executors=[ThreadPoolExecutor(label='default')],
                    strategy=None)
    copied = normalised(config)
    assert (copied.strategy, copied.run_dir) == ('none', default_run_dir())
    assert (config.strategy, config.run_dir) == (None, 'runinfo')
    assert copied.executors[0] is config.executors[0]
    mine = Config(executors=[ThreadPoolExecutor(label='default')],
                  strategy='simple', run_dir=os.path.join('.', 'runinfo'))
    assert normalised(mine).strategy == 'simple'
    assert normalised(mine).run_dir == os.path.join('.', 'runinfo')


def test_building_executors_starts_nothing(places):
    threads_before = threading.active_count()
    get_config_from_file(SPEC)
    get_config_from_file(DATA / 'slurm-single-node.toml')
    assert psutil.Process().children() == []
    assert threading.active_count() == threads_before


# Each mistake: (document, key path the message must name, words in it).
MISTAKES = {
    'missing [parsl]': ({'parsel': {}}, 'parsl', '[parsl]'),
    'no default label': (
        {'parsl': {'executors': [{'class': 'ThreadPoolExecutor',
                                  'label': 'threads'}]}},
        'parsl.executors', 'labelled "default"'),
    'two executors, one label': (
        with_htex(label='default'), 'parsl.executors[1].label',
        'also the label of parsl.executors[0]'),
    'executor without label': (
        {'parsl': {'executors': [{'class': 'ThreadPoolExecutor'}]}},
        'parsl.executors[0].label', 'give each executor a label'),
    'executor without class': (
        {'parsl': {'executors': [{'label': 'default'}]}},
        'parsl.executors[0].class', 'names its class'),
    'unknown executor class': (
        one_executor(**{'class': 'ThreadPoolExecuter'}),
        'parsl.executors[0].class', 'Did you mean "ThreadPoolExecutor"'),
    'unknown provider class': (
        with_htex(provider={'class': 'LocalProvidr'}),
        'parsl.executors[1].provider.class', 'Did you mean "LocalProvider"'),
    'provider class as executor': (
        one_executor(**{'class': 'LocalProvider'}),
        'parsl.executors[0].class', 'is a provider class, but an executor'),
    'unknown keyword': (
        one_executor(max_thread=3), 'parsl.executors[0].max_thread',
        'Did you mean "max_threads"? It accepts: label, max_threads'),
    'missing required keyword': (
        with_htex(provider={'class': 'LocalProvider',
                            'launcher': {'class': 'WrappedLauncher'}}),
        'parsl.executors[1].provider.launcher',
        'WrappedLauncher needs prepend'),
    'unknown Config keyword': (
        {'parsl': {'executors': one_executor()['parsl']['executors'],
                   'stratgy': 'none'}},
        'parsl.stratgy', 'Did you mean "strategy"'),
    'wrong type': (
        one_executor(max_threads='seven'), 'parsl.executors[0].max_threads',
        'must be a whole number or "None", not the string "seven"'),
    'boolean for a number': (
        one_executor(max_threads=True), 'parsl.executors[0].max_threads',
        'not true'),
    'out of range': (
        one_executor(max_threads=0), 'parsl.executors[0].max_threads',
        'max_threads is 0, but must be at least 1'),
    'out of range under its old name': (
        with_htex(max_workers=0), 'parsl.executors[1].max_workers',
        'max_workers is 0, but must be at least 1'),
    'old and new name together': (
        with_htex(max_workers=2, max_workers_per_node=2),
        'parsl.executors[1].max_workers_per_node', 'keep only'),
    'table written as a string': (
        with_htex(provider='LocalProvider'), 'parsl.executors[1].provider',
        'a line [parsl.executors.provider] followed by a line'
        ' class = "LocalProvider"'),
    'launcher written as a string': (
        with_htex(provider={'class': 'LocalProvider',
                            'launcher': 'SrunLauncher'}),
        'parsl.executors[1].provider.launcher',
        '[parsl.executors.provider.launcher]'),
    'cluster htex without address': (
        with_htex(provider={'class': 'SlurmProvider'}),
        'parsl.executors[1].address', 'address = "127.0.0.1"'),
    'unknown strategy': (
        {'parsl': {'strategy': 'simpel',
                   'executors': one_executor()['parsl']['executors']}},
        'parsl.strategy', '"simple"'),
    'literal choice': (
        {'parsl': {'exit_mode': 'always',
                   'executors': one_executor()['parsl']['executors']}},
        'parsl.exit_mode', 'one of "cleanup", "skip", "wait"'),
    'a Python function': (
        {'parsl': {'retry_handler': 'my_handler',
                   'executors': one_executor()['parsl']['executors']}},
        'parsl.retry_handler', 'set it from Python'),
    'tuple of the wrong length': (
        with_htex(worker_port_range=[1, 2, 3]),
        'parsl.executors[1].worker_port_range', 'a list of 2 values'),
    'executors as a single table': (
        {'parsl': {'executors': {'class': 'ThreadPoolExecutor',
                                 'label': 'default'}}},
        'parsl.executors', '[[parsl.executors]] (double brackets)'),
    'settings without executors': (
        {'parsl': {'strategy': 'None'}}, 'parsl', 'no [[parsl.executors]]'),
    'mapping to an unknown label': (
        {'parsl': {'executors': one_executor()['parsl']['executors'],
                   'executor_mapping': {'some_action': 'htex'}}},
        'parsl.executor_mapping.some_action',
        'no executor has that label (labels: default)'),
    'plugin mapping to an unknown label': (
        {'parsl': {'executors': one_executor()['parsl']['executors'],
                   'executor_mapping': {'dada2': {'denoise-single': 'gpu'}}}},
        'parsl.executor_mapping.dada2.denoise-single', '"gpu"'),
    'mapping value not a label': (
        {'parsl': {'executor_mapping': {'some_action': 3}}},
        'parsl.executor_mapping.some_action', 'label of an executor'),
}


@pytest.mark.parametrize('document, key, words', MISTAKES.values(),
                         ids=MISTAKES.keys())
def test_each_mistake_names_its_key(places, document, key, words):
    with pytest.raises(ConfigError) as caught:
        get_config_from_dict(document)
    message = str(caught.value)
    assert caught.value.key == key
    assert f'given as a dict, key `{key}`:' in message
    assert words in message
    assert '\n' not in message


def test_file_errors_name_the_file(places, tmp_path):
    path = tmp_path / 'bad.toml'
    path.write_text(SPEC.read_text().replace('max_threads = 7',
                                             'max_threads = 0'))
    with pytest.raises(ConfigError, match=f'{path}, key `parsl.executors'
                                          r'\[0\].max_threads`'):
        get_config_from_file(path)


def test_toml_syntax_error_gives_line_and_column(places):
    with pytest.raises(ConfigError) as caught:
        get_config_from_file(DATA / 'spec-expression.toml')
    message = str(caught.value)
    assert str(DATA / 'spec-expression.toml') in message
    assert 'TOML at line 8, column 15: Unexpected character' in message
    assert 'not evaluated' in message


def test_string_provider_in_a_toml_file(places, tmp_path):
    path = tmp_path / 'string-provider.toml'
    path.write_text('[parsl]\n[[parsl.executors]]\nclass = "HighThroughput'
                    'Executor"\nlabel = "default"\nprovider = "LocalProvider"'
                    '\n')
    with pytest.raises(ConfigError, match='parsl.executors.0..provider'):
        get_config_from_file(path)


@pytest.mark.skipif(importlib.util.find_spec('sqlalchemy') is not None,
                    reason='Parsl builds a MonitoringHub when it can')
def test_objects_parsl_cannot_build_are_reported_with_their_key(places):
    from parsl.monitoring import MonitoringHub
    document = one_executor()
    document['parsl']['monitoring'] = {'class': 'MonitoringHub'}
    if parsl_default(MonitoringHub, 'hub_address') is inspect.Parameter.empty:
        # Parsl up to 2024.10 requires it; later releases ignore it
        document['parsl']['monitoring']['hub_address'] = '127.0.0.1'
    with pytest.raises(ConfigError) as caught:
        get_config_from_dict(document)
    assert caught.value.key == 'parsl.monitoring'
    assert 'could not build MonitoringHub' in str(caught.value)
    assert 'sqlalchemy' in str(caught.value)
    assert '\n' not in str(caught.value)


@pytest.mark.parametrize('name, words', [('missing.toml', 'does not exist'),
                                         ('', 'is a directory')])
def test_unusable_paths(places, tmp_path, name, words):
    with pytest.raises(ConfigError, match=words):
        get_config_from_file(tmp_path / name)
