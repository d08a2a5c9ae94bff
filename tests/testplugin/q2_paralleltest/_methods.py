"""The steps: split, apply (with a record of where and when), combine."""
import json
import os
import signal
import threading
import time
import uuid


def _record(record_dir, action, started):
    """Leave a note of this step's process, thread, times, Slurm job and
    the variable PARALLELTEST_SET_BY (which a config's worker_init may
    set)."""
    if not record_dir:
        return
    note = {'action': action, 'pid': os.getpid(),
            'thread': threading.get_ident(), 'start': started,
            'end': time.time(),
            'slurm_job_id': os.environ.get('SLURM_JOB_ID'),
            'set_by': os.environ.get('PARALLELTEST_SET_BY')}
    path = os.path.join(record_dir, f'{action}-{uuid.uuid4().hex}.json')
    with open(path, 'w') as fh:
        json.dump(note, fh)


def split_ints(ints: list, part: int, partitions: int) -> list:
    return ints[part::partitions]


def square(ints: list, delay: float = 0.0, record_dir: str = '',
           burn: int = 0) -> list:
    started = time.time()
    time.sleep(delay)
    for _ in range(burn):  # CPU-bound work, for the benchmark
        sum(i * i for i in range(1000))
    result = [n * n for n in ints]
    _record(record_dir, 'square', started)
    return result


def merge_ints(lists: list) -> list:
    return sorted(n for ints in lists for n in ints)


def fail(ints: list, message: str = 'this step fails on purpose') -> list:
    raise ValueError(message)


def kill_worker(ints: list, how: str = 'exit', record_dir: str = '',
                delay: float = 0.0) -> list:
    """Die mid-step: ``exit`` the worker, ``kill`` it with SIGKILL, or, when
    a marker file from an earlier attempt exists, succeed (for retries)."""
    started = time.time()
    marker = os.path.join(record_dir, 'killed-once') if record_dir else ''
    if how == 'once' and marker and os.path.exists(marker):
        _record(record_dir, 'kill_worker', started)
        return ints
    if marker:
        open(marker, 'w').close()
    time.sleep(delay)
    if how == 'exit':
        os._exit(3)
    os.kill(os.getpid(), signal.SIGKILL)
    return ints
