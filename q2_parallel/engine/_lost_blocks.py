"""What a run does when the places its steps run are lost: blocks that end
(a cancelled Slurm job, a walltime reached), workers that die, and HTEX
interchanges that end."""
import signal
import threading

from q2_parallel.internals import parsl_private

from ._stopping import end_executor
from .errors import add_note


def fail_every_step_when_failing(dfk):
    """When Parsl gives up on an executor, every step waiting for it fails
    (see ``parsl_private.fail_every_step_when_failing``)."""
    for executor in parsl_private.provider_executors(dfk):
        parsl_private.fail_every_step_when_failing(executor)


def give_up_when_blocks_end(dfk):
    """With strategy "none" no block replaces one that ends, and Parsl
    counts an ended job as completed, not failed: steps still waiting would
    wait forever.  Fail them instead, saying why, unless the config chose
    its own ``block_error_handler``."""
    if dfk.config.strategy not in (None, 'none'):
        return
    for executor in parsl_private.provider_executors(dfk):
        if parsl_private.uses_default_block_error_handler(executor):
            parsl_private.handle_block_errors(executor,
                                              _fail_when_all_blocks_ended)


def _fail_when_all_blocks_ended(executor, status):
    if parsl_private.has_failed(executor) or not status:
        return
    waiting = parsl_private.outstanding_steps(executor)
    if waiting and all(job.terminal for job in status.values()):
        jobs = ', '.join(f'{job_id} {job.status_name}'
                         for job_id, job in status.items())
        parsl_private.fail_executor(executor, RuntimeError(
            f'Every block of the executor {executor.label!r} has ended '
            f'(jobs: {jobs}) while {waiting} step(s) still needed it, and '
            'with strategy "none" Parsl starts no new block. Its jobs may '
            'have been cancelled, reached their walltime or lost their node: '
            'give them more walltime, or use strategy "simple" with '
            '`retries` so that lost blocks are replaced.'))


def explain_lost_worker(error):
    """Parsl's message for a lost worker names only a host; say what it
    means and what helps."""
    if parsl_private.is_lost_worker(error):
        add_note(error,
                 'The worker process running this step ended before it '
                 'finished (killed, out of memory, or its job was cancelled '
                 'or reached its walltime). `retries = N` in the [parsl] '
                 'table reruns such steps.')


# How long the run waits for an interchange's answer to a command (which
# blocks are connected, which managers are idle) before taking it for gone:
# as long as Parsl waits for the interchange to start.
COMMAND_TIMEOUT_SECONDS = 120


class InterchangeWatch:
    """An HTEX's interchange that ends while the run needs it (killed by
    hand or for lack of memory) fails the executor's steps at once, saying
    so: Parsl would wait for their results, and for the interchange's
    answers, forever.  Each interchange is waited for in a thread of its
    own; `stop` is called before Parsl's cleanup ends them on purpose."""

    def __init__(self, dfk):
        self._stopping = threading.Event()
        for executor in parsl_private.provider_executors(dfk):
            process = parsl_private.interchange_process(executor)
            if process is not None:
                parsl_private.bound_interchange_commands(
                    executor, COMMAND_TIMEOUT_SECONDS)
                threading.Thread(
                    target=self._watch, args=(executor, process), daemon=True,
                    name=f'q2-parallel interchange of {executor.label}',
                ).start()

    def stop(self):
        self._stopping.set()

    def _watch(self, executor, process):
        returncode = process.wait()
        if self._stopping.is_set() or parsl_private.has_failed(executor):
            return
        parsl_private.refuse_interchange_commands(executor)
        waiting = parsl_private.outstanding_steps(executor)
        end_executor(executor, RuntimeError(
            f'The interchange of the executor {executor.label!r} (the HTEX '
            f'process that passes steps to its workers and their results '
            f'back) ended while the run needed it: {_ended(returncode)}. '
            f'The {waiting} step(s) sent to it cannot finish, so the run '
            'stops. It may have been killed by hand or by the system for '
            "lack of memory; its own log, interchange.log, is in Parsl's "
            'log folder of this run.'))


def _ended(returncode):
    """How a process ended, from its return code: negative for a signal,
    or 128 + the signal as a shell reports it (the interchange's client,
    ``forked_main``, exits so)."""
    signum = -returncode if returncode < 0 else returncode - 128
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return f'exit status {returncode}'
    return f'killed by {name}' if returncode < 0 else \
        f'exit status {returncode}, killed by {name}'
