"""Which config file is in effect when none is named, and loading it.

The spec's lookup: 1. `$QIIME2_CONFIG`; 2. `<user config dir>/qiime2/`;
3. `<site config dir>/qiime2/` (each directory of `$XDG_CONFIG_DIRS` in
turn on Linux); 4. `$CONDA_PREFIX/etc/`; 5. write the default to the path
of step 4 and use it, or, when that cannot be written, use the default from
memory and write nothing. The file name is `qiime2_config.toml` throughout.
"""
import os
from pathlib import Path
from typing import NamedTuple, Optional

import appdirs
import tomlkit

from .default import default_config_text, write_default_config
from .errors import ConfigError
from .parse import (build_config, check_document, get_config_from_file,
                    plain)

FILE_NAME = 'qiime2_config.toml'
BUILT_IN_SOURCE = '(the built-in default)'


class FoundConfig(NamedTuple):
    """The config file in effect and why. `path` is None for the default
    from memory; `step` is one of 'given', 'env', 'user', 'site', 'conda',
    'written', 'memory'; `reason` says it in a sentence."""
    path: Optional[Path]
    step: str
    reason: str


def find_config(write_default=True):
    """Run the lookup (steps 1-5). With `write_default` False, step 5
    writes nothing and says where the default would be written."""
    named = os.environ.get('QIIME2_CONFIG')
    if named:
        return _check_named_file(Path(named).expanduser())
    tried = []
    for step, title, directory in _search_dirs():
        path = directory / FILE_NAME
        if os.path.exists(path):  # False also when not accessible
            return FoundConfig(path, step, f'lookup step {title} found it'
                               f' ({_skipped(tried)}).')
        tried.append(str(path))
    return _default_step(tried, write_default)


def load_config(path=None):
    """(parsl.Config, mapping, FoundConfig): the file at `path`, or the one
    the lookup finds, or the default from memory when none could be
    written. A file that only maps actions is an error here: running needs
    executors."""
    if path is not None:
        found = FoundConfig(Path(path), 'given', 'it was named explicitly.')
    else:
        found = find_config()
    if found.path is None:
        return (*default_config(), found)
    config, mapping = get_config_from_file(found.path)
    if config is None:
        raise ConfigError(
            'only maps actions and has no [[parsl.executors]], but running'
            ' in parallel needs executors, one labelled "default". Add them'
            ' (python -m q2_parallel.config init PATH writes a starting'
            ' file), or give a parsl.Config along with this mapping.',
            key='parsl.executors', source=found.path)
    return config, mapping, found


def default_config():
    """(parsl.Config, mapping) of the default config, from memory."""
    plan, mapping = check_default()
    return build_config(plan, BUILT_IN_SOURCE), mapping


def check_default():
    """Check the default config, from memory, building nothing: (its
    ConfigPlan, its mapping)."""
    document = plain(tomlkit.parse(default_config_text()))
    return check_document(document, BUILT_IN_SOURCE)


def _search_dirs():
    """(step, title, directory) of lookup steps 2-4."""
    yield 'user', '2 (user config dir)', Path(appdirs.user_config_dir(
        'qiime2'))
    site_dirs = appdirs.site_config_dir('qiime2', multipath=True)
    for directory in site_dirs.split(os.pathsep):
        yield 'site', '3 (site config dir)', Path(directory)
    prefix = os.environ.get('CONDA_PREFIX')
    if prefix:
        yield 'conda', '4 ($CONDA_PREFIX/etc)', Path(prefix, 'etc')


def _check_named_file(path):
    """Step 1: $QIIME2_CONFIG must name a readable file."""
    if os.path.isdir(path):
        problem = 'is a directory; name the .toml file itself.'
    elif not os.path.exists(path):
        problem = 'does not exist.'
    else:
        try:
            path.open('rb').close()
        except OSError as err:
            problem = f'cannot be read ({err.strerror}).'
        else:
            return FoundConfig(path, 'env', 'lookup step 1: $QIIME2_CONFIG'
                               ' names it.')
    raise ConfigError(
        f'$QIIME2_CONFIG names {path}, which {problem} Point QIIME2_CONFIG'
        ' at a readable config file, or unset it to use the usual lookup.')


def _default_step(tried, write_default):
    """Step 5: write the default to $CONDA_PREFIX/etc, else use memory."""
    prefix = os.environ.get('CONDA_PREFIX')
    start = f'lookup step 5: no config file ({_skipped(tried)})'
    if not prefix:
        return _from_memory(f'{start} and $CONDA_PREFIX is not set')
    etc = Path(prefix, 'etc')
    path = etc / FILE_NAME
    if not etc.is_dir():
        return _from_memory(f'{start} and {etc} is not a directory')
    if not write_default:
        return FoundConfig(None, 'memory', f'{start}; the default is used'
                           f' from memory, and a parallel run would write it'
                           f' to {path}.')
    try:
        written = write_default_config(path)
    except ConfigError as err:
        why = getattr(err.__cause__, 'strerror', None) or err.__cause__
        return _from_memory(f'{start} and the default could not be written'
                            f' to {path} ({why})')
    if written:
        return FoundConfig(path, 'written', f'{start}, so the default was'
                           ' written there.')
    return FoundConfig(path, 'conda', 'lookup step 4 found it (another'
                       ' process wrote the default there just now).')


def _from_memory(why):
    return FoundConfig(None, 'memory', f'{why}, so the default is used from'
                       ' memory; nothing was written.')


def _skipped(tried):
    if not tried:
        return '$QIIME2_CONFIG is not set'
    return '$QIIME2_CONFIG is not set; no ' + ', no '.join(tried)
