"""What a step prints in a worker process, shown where a serial run shows
it.

In a serial run, q2cli sends everything the action prints (its programs'
output included) to the terminal with ``--verbose``, and otherwise to its
debug log, which it names when the action fails.  A step in a worker
process prints into Parsl's worker log instead.  So the worker captures it
(at the file-descriptor level, for the programs a step runs) and hands it
back with the step's outputs or its failure; the main process writes it to
its own standard error, which q2cli points at the terminal or its log.
"""
import os
import sys
import tempfile

from .errors import command_line_name


class PrintedOutput:
    """While the block lasts, file descriptors 1 and 2 of this (worker)
    process write to a temporary file; ``text`` is what was written."""

    def __init__(self):
        self.text = ''
        self._file = None
        self._saved = []

    def __enter__(self):
        _flush()
        self._file = tempfile.TemporaryFile()
        self._saved = [os.dup(1), os.dup(2)]
        for fd in (1, 2):
            os.dup2(self._file.fileno(), fd)
        return self

    def __exit__(self, *exc_info):
        _flush()
        for fd, saved in zip((1, 2), self._saved):
            os.dup2(saved, fd)
            os.close(saved)
        self._file.seek(0)
        self.text = self._file.read().decode(errors='replace')
        self._file.close()
        return False


def _flush():
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def keep_with_failure(error, text):
    """Hand ``text`` back with ``error`` (attributes travel with a pickled
    exception)."""
    if text:
        try:
            error.printed_by_step = text
        except AttributeError:  # exceptions with __slots__
            pass


def show(future, step_name):
    """Write what the finished step printed in its worker to this process's
    standard error, under a line naming the step."""
    if future.cancelled():
        return
    error = future.exception()
    text = (getattr(error, 'printed_by_step', '') if error is not None
            else getattr(future.result(), 'printed', ''))
    if not text:
        return
    heading = (f'--- printed by the step {command_line_name(step_name)} in a '
               'worker process ---\n')
    _flush()
    os.write(2, (heading + text + ('' if text.endswith('\n') else '\n'))
             .encode())
