"""Stopping a run's executors: at once after a failure, and with Parsl's
log files closed."""
import logging

from q2_parallel.internals import parsl_private


def stop_after_failure(dfk):
    """Stop what a failed run still has going, without waiting for it.

    Thread pools drop their queued steps and are not waited for: Python
    cannot stop a running thread, and its result is no longer wanted.
    Executors with a provider have their blocks ended through it and are
    marked failed, so that Parsl's cleanup does not ask the interchange to
    scale in: an interchange killed along with the run (SIGTERM to the
    process group) would leave that request waiting forever, and the
    workers running."""
    for executor in parsl_private.thread_pool_executors(dfk).values():
        parsl_private.drop_queued_thread_steps(executor)
    for executor in parsl_private.provider_executors(dfk):
        if parsl_private.has_failed(executor):
            continue
        job_ids = parsl_private.block_job_ids(executor)
        if job_ids:
            executor.provider.cancel(job_ids)
        parsl_private.fail_executor(
            executor, RuntimeError('the parallel run stopped'))


def close_log_files(handlers):
    """Detach Parsl's log handlers of a run and close their files.  Parsl
    2026 detaches them at cleanup but leaves the files open; Parsl 2024.10
    leaves them attached, and a closed file handler reopens its file at the
    next message: in a run folder that is gone by then."""
    logger = logging.getLogger('parsl')
    for handler in handlers:
        logger.removeHandler(handler)
        handler.close()


def log_handlers(run_dir):
    """The handlers writing Parsl's log of the run in ``run_dir``."""
    return [handler for handler in logging.getLogger('parsl').handlers
            if getattr(handler, 'baseFilename', '').startswith(run_dir)]
