"""Which executor an action runs on: flat and per-plugin mapping forms,
`_`/`-` spelled alike, plugin-qualified entries first, unmapped -> default."""
import pytest

from q2_parallel.config import ConfigError, check_mapping, executor_label

MAPPING = {
    'summarize': 'flat',
    'denoise-single': 'htex',
    'feature-table': {'summarize': 'qualified', 'merge_seqs': 'htex'},
}


@pytest.mark.parametrize('plugin, action, label', [
    ('dada2', 'denoise_single', 'htex'),          # flat, _ for -
    ('dada2', 'denoise-single', 'htex'),          # flat, as written
    ('feature_table', 'summarize', 'qualified'),  # plugin entry wins
    ('feature-table', 'merge-seqs', 'htex'),      # per plugin, - for _
    ('diversity', 'summarize', 'flat'),           # other plugin: flat
    ('feature_table', 'rarefy', 'default'),       # unmapped
])
def test_executor_label(plugin, action, label):
    assert executor_label(MAPPING, plugin, action) == label


def test_no_mapping_means_default():
    assert executor_label({}, 'dada2', 'denoise_single') == 'default'
    assert executor_label(None, 'dada2', 'denoise_single') == 'default'


def test_check_mapping_accepts_known_labels():
    check_mapping(MAPPING, ['default', 'htex', 'flat', 'qualified'])


def test_check_mapping_names_the_entry_and_source():
    with pytest.raises(ConfigError) as caught:
        check_mapping(MAPPING, ['default', 'htex', 'flat'],
                      source='mapping given to ParallelConfig')
    assert caught.value.key == 'parsl.executor_mapping.feature-table.summarize'
    assert str(caught.value).startswith(
        'Parallel config mapping given to ParallelConfig, key'
        ' `parsl.executor_mapping.feature-table.summarize`: maps to the'
        ' executor "qualified", but no executor has that label')


def test_check_mapping_rejects_deeper_tables():
    with pytest.raises(ConfigError, match='executor_mapping.a.b`'):
        check_mapping({'a': {'b': {'c': 'default'}}}, ['default'])
