"""Errors of the parallel engine, and the failures it hands back."""
import sys

from q2_parallel.internals import parsl_private

# Python 3.11 shows an exception's notes (PEP 678) under its message.
_NOTES_SHOWN = sys.version_info >= (3, 11)


class ParallelError(Exception):
    """A parallel run was used the wrong way (not a step's own failure)."""


def root_cause(error):
    """The failure of the step that broke a run.

    Parsl reports a step whose input failed as a ``DependencyError`` that
    leads to the original exception; users want that one.
    """
    while parsl_private.is_propagated_failure(error):
        cause = parsl_private.propagated_cause(error)
        if cause is None:
            break
        error = cause
    return error


def add_note(error, note):
    """Add ``note`` to ``error``'s notes (``__notes__``), which Python 3.11
    shows under the message.  Older Pythons show no notes, so there a note
    on a step's failure (which ``mark_failed_step`` names) is also added to
    the message itself where that is plain text, and so reaches the user in
    any traceback, notebook or log; the user's own errors keep their
    message."""
    if _NOTES_SHOWN:
        error.add_note(note)
        return
    try:
        notes = error.__dict__.setdefault('__notes__', [])
    except AttributeError:  # exceptions with __slots__
        return
    notes.append(note)
    if (getattr(error, 'parallel_step', None) is not None
            and type(error).__str__ is BaseException.__str__
            and len(error.args) == 1 and isinstance(error.args[0], str)):
        error.args = (f'{error.args[0]}\n{note}',)


def message_without_notes(error):
    """``error``'s message without the notes ``add_note`` put into it
    (before Python 3.11), for callers that show the notes themselves."""
    message = str(error)
    for note in getattr(error, '__notes__', []):
        message = message.replace(f'\n{note}', '')
    return message


def mark_failed_step(error, step_name):
    """Say on a step's own exception which step raised it, once."""
    if getattr(error, 'parallel_step', None) is None:
        try:
            error.parallel_step = step_name
        except AttributeError:  # exceptions with __slots__
            return
        add_note(error, f'(raised by the step {step_name} of a parallel run)')


def command_line_name(step):
    """'plugin-name action-name', as `qiime` spells them, for a step named
    'plugin_id:action_id'."""
    return ' '.join(part.replace('_', '-') for part in step.split(':', 1))
