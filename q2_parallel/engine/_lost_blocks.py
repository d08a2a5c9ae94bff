"""What a run does when the places its steps run are lost: blocks that end
(a cancelled Slurm job, a walltime reached) and workers that die."""
from q2_parallel.internals import parsl_private

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
