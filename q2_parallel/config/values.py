"""Check one value of a config file against the Parsl keyword it is given
to, and turn it into what Parsl wants.

TOML has strings, numbers, booleans, lists and tables; Parsl wants Python
objects. So: the string "None" becomes None where Parsl accepts None, a list
becomes a tuple where Parsl wants a tuple, and a table with a `class`
becomes a plan for that object (through the `plan_table` callback, so this
module knows nothing of building). Type hints Parsl does not give are
guessed from the keyword's default. Works with the hints of every Parsl
from 2024.10.07 on, under Python 3.8 too (where Parsl's `Literal` hints come
from typing_extensions).
"""
import collections.abc
import re
import sys
import types
import typing

from .errors import ConfigError
from .parsl_api import EMPTY, base_classes, kind

_NONE = type(None)
# `X | Y` hints are types.UnionType from Python 3.10 on.
_UNIONS = (typing.Union, getattr(types, 'UnionType', typing.Union))
_SEQUENCES = (list, tuple, collections.abc.Sequence, collections.abc.Iterable,
              collections.abc.Collection, collections.abc.MutableSequence)
_MAPPINGS = (dict, collections.abc.Mapping)
_SCALARS = {bool: 'true or false', int: 'a whole number', float: 'a number',
            str: 'a string in quotes'}


def _is_literal(origin):
    """Whether `origin` is typing.Literal, or typing_extensions.Literal
    where that is another object (Python < 3.10.1; Parsl 2024.10.07 uses it
    on Python 3.8). A hint made with typing_extensions means Parsl has
    imported it, so it is looked up, never imported, here."""
    if origin is typing.Literal:
        return True
    extensions = sys.modules.get('typing_extensions')
    return (extensions is not None
            and origin is getattr(extensions, 'Literal', None))


# Numeric ranges Parsl's classes accept without complaint at construction
# (measured on Parsl 2024.10.07 and 2026.10.26: none of these is checked
# when the object is built), although a value outside fails or misbehaves
# only later, while a run is under way. Each entry says what Parsl would do.
# Values Parsl itself handles sensibly (mem_per_worker <= 0 means no memory
# limit; negative retries or max_idletime act as 0) are left to Parsl.
# keyword: (lowest allowed, whether the lowest itself is allowed, highest)
_LIMITS = {
    # Python's ThreadPoolExecutor rejects < 1, but only when Parsl starts
    # the executor (or, for the internal pool, loads the Config).
    'max_threads': (1, True, None),
    'internal_tasks_max_threads': (1, True, None),
    # HTEX reads 0 as "no cap" (`or float('inf')`), a negative as no
    # worker at all: steps would wait forever.
    'max_workers_per_node': (1, True, None),
    # The worker pool divides a node's cores by it.
    'cores_per_worker': (0, False, None),
    # Counts of nodes and blocks: a block of 0 nodes starts no worker, and
    # a negative count is meaningless to the scaling strategy.
    'nodes_per_block': (1, True, None),
    'init_blocks': (0, True, None),
    'min_blocks': (0, True, None),
    'max_blocks': (0, True, None),
    # A ratio of task slots to tasks, which Parsl's docstring bounds by 0
    # and 1 and its strategy uses unchecked.
    'parallelism': (0, True, 1),
    # Parsl's poller clamps it to >= 0 and then polls without pause at 0.
    'strategy_period': (0, False, None),
}


def convert(value, param, key, plan_table):
    """`value` as the keyword `param` wants it; `param` is None for a
    keyword that a class takes through **kwargs. `plan_table(table, key,
    base)` plans a table naming a class. Raises ConfigError at `key`."""
    hint = _hint(param)
    accepts_none = (param is None or param.default is None
                    or hint is typing.Any or _NONE in typing.get_args(hint))
    if value == 'None' and accepts_none:
        return None
    converted = _convert(value, hint, key, plan_table)
    if param is not None:
        _check_limits(param.name, converted, key)
    return converted


def describe(hint):
    """What a value for `hint` looks like, in words a TOML writer knows."""
    origin, args = _origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return 'any value'
    if origin in _UNIONS:
        options = [a for a in args if a is not _NONE]
        if float in options and int in options:
            options.remove(int)
        text = ' or '.join(describe(option) for option in options)
        return text + (' or "None"' if _NONE in args else '')
    if _is_literal(origin):
        return 'one of ' + ', '.join(
            f'"{c}"' if isinstance(c, str) else _show(c) for c in args)
    if origin in _SEQUENCES:
        return 'a list in square brackets'
    if origin is collections.abc.Callable:
        return ('a Python function, which a config file cannot hold (leave'
                ' it out here and set it from Python)')
    if origin in _MAPPINGS:
        return 'a table'
    if hint in _SCALARS:
        return _SCALARS[hint]
    if _is_object_hint(hint):
        return f'a table naming a {kind(hint)} class'
    return str(hint)


def _hint(param):
    """The type hint of `param`, guessed from its default if Parsl gives
    none (a number's type is not trusted: 1 often stands for 1.0)."""
    if param is not None and param.hint is not EMPTY:
        return param.hint
    default = EMPTY if param is None else param.default
    if isinstance(default, (bool, str)):
        return type(default)
    if isinstance(default, (int, float)):
        return typing.Union[int, float]
    if default is EMPTY or default is None:
        return typing.Any
    # An object default such as SingleNodeLauncher(): any class of its
    # family, as Parsl's own base class of the family says.
    for base in base_classes():
        if isinstance(default, base):
            return base
    return typing.Any


def _origin(hint):
    return typing.get_origin(hint) or hint


def _is_object_hint(hint):
    return (isinstance(hint, type)
            and hint.__module__ not in ('builtins', 'collections.abc'))


def _fits(value, hint):
    """Whether `value` has the shape `hint` wants (not looking inside)."""
    origin, args = _origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return True
    if origin in _UNIONS:
        return any(_fits(value, a) for a in args if a is not _NONE)
    if _is_literal(origin):
        return any(value == a and type(value) is type(a) for a in args)
    if origin in _SEQUENCES:
        return isinstance(value, list)
    if origin is collections.abc.Callable:
        return False
    if origin in _MAPPINGS:
        return isinstance(value, dict)
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):
        numbers = int if hint is int else (int, float)
        return isinstance(value, numbers) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if _is_object_hint(hint):
        return isinstance(value, dict)
    return True  # a hint a file cannot be checked against: Parsl judges


def _convert(value, hint, key, plan_table):
    if hint is typing.Any:
        return _convert_any(value, key, plan_table)
    origin, args = _origin(hint), typing.get_args(hint)
    if origin in _UNIONS:
        for option in args:
            if option is not _NONE and _fits(value, option):
                return _convert(value, option, key, plan_table)
        raise _mismatch(value, hint, key)
    if not _fits(value, hint):
        raise _mismatch(value, hint, key)
    if origin in _SEQUENCES:
        items = [_convert(item, item_hint, f'{key}[{i}]', plan_table)
                 for i, (item, item_hint)
                 in enumerate(zip(value, _item_hints(origin, args, value,
                                                     key)))]
        return tuple(items) if origin is tuple else items
    if _is_object_hint(hint):
        return plan_table(value, key, hint)
    return value


def _convert_any(value, key, plan_table):
    """A value for a keyword of unknown type: tables naming a class are
    still planned, everything else goes to Parsl as it is."""
    if isinstance(value, dict) and 'class' in value:
        return plan_table(value, key, None)
    if isinstance(value, list):
        return [_convert_any(item, f'{key}[{i}]', plan_table)
                for i, item in enumerate(value)]
    return value


def _item_hints(origin, args, value, key):
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise ConfigError(
                f'must be a list of {len(args)} values, not {len(value)}.',
                key=key)
        return args
    return [args[0] if args else typing.Any] * len(value)


def _mismatch(value, hint, key):
    name = key.rsplit('.', 1)[-1]
    options = typing.get_args(hint) or (hint,)
    if isinstance(value, str) and any(_is_object_hint(o) for o in options):
        header = re.sub(r'\[\d+\]', '', key)
        return ConfigError(
            f'is the string "{value}", but {name} must be a table that names'
            ' its class. Write it as a table of its own, after the other'
            f' keys of its parent: a line [{header}] followed by a line'
            f' class = "{value}".', key=key)
    return ConfigError(
        f'{name} must be {describe(hint)}, not {_show(value)}. In TOML,'
        ' numbers go without quotes, text in double quotes, and true/false'
        ' in lower case.', key=key)


def _check_limits(name, value, key):
    if name not in _LIMITS or isinstance(value, bool) \
            or not isinstance(value, (int, float)):
        return
    lowest, lowest_ok, highest = _LIMITS[name]
    if value < lowest or (value == lowest and not lowest_ok):
        limit = f'at least {lowest}' if lowest_ok else f'more than {lowest}'
    elif highest is not None and value > highest:
        limit = f'at most {highest}'
    else:
        return
    written = key.rsplit('.', 1)[-1]
    raise ConfigError(f'{written} is {value}, but must be {limit}.', key=key)


def _show(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, (int, float)):
        return f'the number {value}'
    if isinstance(value, list):
        return 'a list'
    if isinstance(value, dict):
        return 'a table'
    return repr(value)
