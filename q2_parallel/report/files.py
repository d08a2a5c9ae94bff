"""Where the report goes: its path checked before the run starts, and its
two files (the page and the JSON beside it) written whole or not at all."""
import json
import os
import tempfile

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


def write_report(page, facts_path, facts):
    """Write the page and the JSON file, each replacing any older one."""
    from .page import html_page

    _write(facts_path, json.dumps(facts, indent=1))
    _write(page, html_page(facts))


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
