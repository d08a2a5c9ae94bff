"""Errors of the parallel engine, and the failures it hands back."""


class ParallelError(Exception):
    """A parallel run was used the wrong way (not a step's own failure)."""


def root_cause(error):
    """The failure of the step that broke a run.

    Parsl reports a step whose input failed as a ``DependencyError`` whose
    ``__cause__`` chain leads to the original exception; users want that one.
    """
    from parsl.dataflow.errors import PropagatedException

    while isinstance(error, PropagatedException) and error.__cause__:
        error = error.__cause__
    return error


def mark_failed_step(error, step_name):
    """Say on a step's own exception which step raised it, once."""
    if getattr(error, 'parallel_step', None) is None:
        try:
            error.parallel_step = step_name
        except AttributeError:  # exceptions with __slots__
            return
        error.add_note(f'(raised by the step {step_name} of a parallel run)')
