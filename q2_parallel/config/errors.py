"""The one exception type of the configuration layer, and its warnings."""
import contextlib
import sys


class ConfigError(Exception):
    """A parallel configuration that cannot be used, and what to do about it.

    ``str(error)`` is a one-paragraph message for the user: where the problem
    is (the file or dict, and the key path such as
    ``parsl.executors[1].provider.class``), what is wrong and how to fix it.
    ``source`` and ``key`` are kept as attributes so callers can add the file
    name after the fact or point at the key themselves.
    """

    def __init__(self, problem, *, key=None, source=None):
        super().__init__(problem)
        self.problem = problem
        self.key = key
        self.source = source

    def __reduce__(self):  # keep key and source when sent between processes
        state = {'key': self.key, 'source': self.source}
        return type(self), (self.problem,), state

    def __str__(self):
        where = []
        if self.source:
            where.append(f'Parallel config {self.source}')
        if self.key:
            where.append(f'key `{self.key}`')
        prefix = ', '.join(where)
        return f'{prefix}: {self.problem}' if prefix else self.problem


@contextlib.contextmanager
def naming_source(source):
    """Add `source` (a file or 'given as a dict') to a ConfigError raised
    inside the block that does not name one yet."""
    try:
        yield
    except ConfigError as err:
        err.source = err.source or source
        raise


_said = set()


def say_once(message):
    """A warning line on stderr, once per process: what the user should
    know but that does not stop the run."""
    if message not in _said:
        _said.add(message)
        print(message, file=sys.stderr)


def warn_unknown_entries(entries, source=None):
    """One line for each mapping entry that maps nothing here (see
    `mapping.unknown_entries`)."""
    for key, problem in entries:
        say_once('q2-parallel: warning: '
                 + str(ConfigError(f'{problem} It maps nothing here.',
                                   key=key, source=source)))
