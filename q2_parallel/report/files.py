"""Where the report goes: its path checked before the run starts, and its
two files (the page and the JSON beside it) written whole or not at all."""
import json
import os
import tempfile
import time

from q2_parallel.engine.errors import ParallelError


def report_paths(path):
    """The absolute paths of the HTML page and the JSON file beside it
    (``run.html`` -> ``run.json``), once ``path`` is known to be writable;
    else a ``ParallelError`` naming it and what to do."""
    page = os.path.abspath(os.fspath(path))
    facts = os.path.splitext(page)[0] + '.json'
    folder = os.path.dirname(page)
    problem = None
    if facts == page:
        problem = ('it is the name of the JSON file written beside the '
                   'report; give the page a name ending in .html')
    elif not os.path.isdir(folder):
        problem = f'the folder {folder} does not exist'
    elif os.path.isdir(page):
        problem = 'it is a folder; give a file name such as run.html'
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = f'the folder {folder} cannot be written to'
    if problem is not None:
        raise ParallelError(
            f'The run report cannot be written to {path}: {problem}. '
            'Nothing was run. Give a path in an existing folder you can '
            'write to (the JSON file with the same facts goes beside it).')
    return page, facts


def write_run_report(paths, record, exc_type):
    """Write the report of the run in ``record`` (a ``RunRecord``), which
    ended with ``exc_type`` (None if it succeeded), to ``paths`` (from
    ``report_paths``).  Returns what stopped it, if anything: the run's own
    outcome comes first."""
    from .page import html_page
    from .summary import run_facts

    try:
        facts = run_facts(record, _outcome(exc_type), time.time())
        _write(paths[1], json.dumps(facts, indent=1))
        _write(paths[0], html_page(facts))
    except Exception as error:
        return error
    return None


def _outcome(exc_type):
    """How a run that ended with ``exc_type`` is reported: an error or an
    exit (q2cli exits after reporting a failed step) is a failure; Ctrl-C,
    SIGTERM (see the CLI) and the like interrupt the run."""
    if exc_type is None:
        return 'succeeded'
    if issubclass(exc_type, (Exception, SystemExit)):
        return 'failed'
    return 'interrupted'


def _write(path, text):
    handle, temporary = tempfile.mkstemp(
        dir=os.path.dirname(path), prefix='.' + os.path.basename(path))
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as fh:
            fh.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.remove(temporary)
        raise
