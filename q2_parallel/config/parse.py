"""Read a parallel config (a TOML file or the dict it stands for) into a
`parsl.Config` and an action -> executor mapping.

In two steps, so that `validate` and `show` can look between them:

    plan, mapping = check_file(path)      # or check_document(dict, source)
    config = build_config(plan, path)     # parsl.Config, or None
"""
from pathlib import Path

import tomlkit
import tomlkit.exceptions

from .encryption import built_from_file, warn_about_unencrypted
from .errors import ConfigError, naming_source
from .mapping import TABLE as MAPPING_TABLE
from .mapping import check_mapping, mapping_entries
from .plan import plan_parsl_table

DICT_SOURCE = 'given as a dict'


def get_config_from_file(path):
    """(parsl.Config, mapping) of the TOML config file at `path`; the config
    is None when the file only maps actions to executors."""
    plan, mapping = check_file(path)
    return build_config(plan, path), mapping


def get_config_from_dict(document):
    """(parsl.Config, mapping) of a dict shaped like a config file
    (`{'parsl': {...}}`); the caller's dict is never changed."""
    plan, mapping = check_document(plain(document), DICT_SOURCE)
    return build_config(plan, DICT_SOURCE), mapping


def check_file(path):
    """Read and check the file at `path`, building nothing: (its ConfigPlan
    or None, its mapping)."""
    return check_document(read_toml(path), path)


def read_toml(path):
    """The TOML file at `path` as plain Python dicts and lists."""
    try:
        text = Path(path).read_text(encoding='utf-8')
    except IsADirectoryError:
        problem = 'is a directory; name the .toml file itself.'
    except FileNotFoundError:
        problem = 'does not exist.'
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, 'strerror', None) or err
        problem = f'cannot be read ({reason}); check its permissions.'
    else:
        try:
            return tomlkit.parse(text).unwrap()
        except tomlkit.exceptions.TOMLKitError as err:
            problem = (
                f'is not valid TOML{_where(err)}: {_what(err)}. Values must'
                ' be written out:'
                ' numbers as digits (max_threads = 7), text in double'
                ' quotes, true/false; expressions such as'
                ' max(psutil.cpu_count() - 1, 1) are not evaluated.')
    raise ConfigError(problem, source=path)


def check_document(document, source):
    """Check a plain config document, building nothing: (its ConfigPlan or
    None, its mapping); errors name `source`."""
    with naming_source(source):
        if not isinstance(document, dict) or 'parsl' not in document:
            raise ConfigError(
                'has no [parsl] table. A parallel config starts with a line'
                ' [parsl], followed by its [[parsl.executors]] and'
                ' [parsl.executor_mapping].', key='parsl')
        table = document['parsl']
        if not isinstance(table, dict):
            raise ConfigError('must be a table: a line [parsl] followed by'
                              ' its keys.', key='parsl')
        mapping = table.get(MAPPING_TABLE, {})
        list(mapping_entries(mapping))
        plan = plan_parsl_table(table)
        if plan is not None:
            check_mapping(mapping, plan.labels)
        return plan, mapping


def plain(value):
    """A deep copy of `value` made of plain dicts, lists and scalars
    (tomlkit's wrappers unwrapped)."""
    if hasattr(value, 'unwrap'):
        return value.unwrap()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def _where(parse_error):
    line = getattr(parse_error, 'line', None)
    if line is None:
        return ''
    return f' at line {line}, column {parse_error.col + 1}'


def _what(parse_error):
    return str(parse_error).split(' at line ')[0].rstrip('.')


def build_config(plan, source):
    """The parsl.Config of a checked `plan` (None for None); errors name
    `source`. Building starts nothing: only parsl.load does."""
    if plan is None:
        return None
    warn_about_unencrypted(plan, source)
    with naming_source(source):
        return built_from_file(plan.build())
