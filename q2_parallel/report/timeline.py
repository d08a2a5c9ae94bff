"""Every step of a run on one timeline and in one lane.

Times are seconds from the start of the run as the main process saw it.
Steps in worker processes time themselves on their host's clock; each
host's clock is moved onto the main process's so that a step starts no
earlier than Parsl launched it and ends no later than its result came back.
A lane is a place a step ran: a thread of the main process, an HTEX worker
(by Slurm job or block, host and rank), or no known place.
"""
import math

from q2_parallel.cli.run import command_line_name
from q2_parallel.config.capacity import steps_at_once

# Parsl's task states, as the report names them.
STATES = {'exec_done': 'done', 'memo_done': 'reused', 'failed': 'failed',
          'dep_fail': 'input failed', 'pending': 'waiting',
          'unsched': 'waiting', 'fail_retryable': 'retrying'}
ENDED_BADLY = ('failed', 'input failed')
# Lanes of steps whose place is not known, after an executor's others.
LAST_LANES = ('unknown', 'not started')


def seconds(moment, start):
    """``moment`` (``time.time()``) in seconds from ``start``."""
    return None if moment is None else round(moment - start, 3)


def clock_offsets(tasks, clocks, main_host):
    """host -> seconds to add to its clock to get the main process's.  A
    step's start on its host cannot precede its launch here, nor its end
    follow its return here; the offset is the latest that fits the ends
    (results come back quickly), the earliest start bound if none does."""
    bounds = {}
    for task, clock in zip(tasks, clocks):
        if clock is None or clock.host == main_host:
            continue
        low, high = bounds.get(clock.host, (-math.inf, math.inf))
        if task['launched'] is not None:
            low = max(low, task['launched'] - clock.started)
        if task['returned'] is not None and clock.ended is not None:
            high = min(high, task['returned'] - clock.ended)
        bounds[clock.host] = (low, high)
    offsets = {host: high if high < math.inf else
               (low if low > -math.inf else 0.0)
               for host, (low, high) in bounds.items()}
    offsets[main_host] = 0.0
    return offsets


def _from_recycle_pool(future):
    """Whether the step's results were taken from the recycle pool."""
    if not future.done() or future.cancelled() or future.exception():
        return False
    return getattr(future.result(), 'how', 'ran') == 'reused'


def step_facts(number, entry, task, clock, offsets, start):
    """One step's facts; times in seconds from ``start``."""
    started = ended = None
    if clock is not None:
        offset = offsets.get(clock.host, 0.0)
        started = clock.started + offset
        if task['launched'] is not None:
            started = max(started, task['launched'])
        if clock.ended is not None:
            ended = max(started, clock.ended + offset)
            if task['returned'] is not None:
                ended = max(started, min(ended, task['returned']))
    state = STATES.get(task['status'], 'running')
    if task['reused'] or _from_recycle_pool(entry.future):
        state = 'reused'
    # Parsl counts the last, given-up try among the failed ones.
    retries = max(task['tries_failed'] - (state in ENDED_BADLY), 0)
    return {
        'id': number, 'step': entry.name,
        'name': command_line_name(entry.name),
        'action': entry.name.split(':', 1)[-1],
        'executor': entry.label, 'state': state,
        'retries': retries,
        'invoked': seconds(task['invoked'], start),
        'ready': seconds(task['launched'], start),
        'launched': seconds(task['launched'], start),
        'started': seconds(started, start),
        'ended': seconds(ended, start),
        'returned': seconds(task['returned'], start),
        'done': seconds(task['done'], start),
        'stopped_while_running': ended is None and started is not None,
        'host': None if clock is None else clock.host,
        'pid': None if clock is None else clock.pid,
        'thread': None if clock is None else clock.thread,
    }


def lane_of(entry, clock, launched, offsets, record):
    """The place a step ran, as a lane of the timeline: a thread of this
    process, an HTEX worker (by Slurm job or block, host and rank),
    'unknown' for a launched step that never reported (still running, or
    lost with its worker), or 'not started'."""
    lane = {'executor': entry.label, 'host': None, 'job': None,
            'block': None, 'worker': None, 'started': None, 'ready': None}
    if clock is None:
        kind = 'unknown' if launched else 'not started'
        lane.update(kind=kind, key=(entry.label, kind),
                    title=f'{entry.label}: '
                    + ('worker unknown' if launched else 'did not start'))
        return lane
    lane['host'] = clock.host
    if entry.local:
        thread = clock.thread.rsplit('_', 1)[-1]
        lane.update(kind='thread', key=(entry.label, 'thread', clock.thread),
                    worker=clock.thread,
                    ready=seconds(record.ready, record.started),
                    title=f'{entry.label}: thread {thread}')
        return lane
    place = clock.place
    offset = offsets.get(clock.host, 0.0)
    worker = place.get('worker', f'pid {clock.pid}')
    where = (f'job {place["job"]}' if 'job' in place else
             f'block {place.get("block", "?")}')
    lane.update(kind='worker', job=place.get('job'),
                block=place.get('block'), worker=worker,
                key=(entry.label, place.get('job'), place.get('block'),
                     clock.host, worker),
                started=seconds(clock.process_started + offset,
                                record.started),
                ready=seconds(clock.process_ready + offset, record.started),
                title=f'{entry.label}: {where}, {clock.host}, worker {worker}')
    return lane


def idle_threads(record, lanes):
    """A lane for each thread a thread pool may start but never needed:
    room the config gives that no step used."""
    idle = []
    for executor in record.executors:
        if type(executor).__name__ != 'ThreadPoolExecutor':
            continue
        used = sum(key[:2] == (executor.label, 'thread') for key in lanes)
        for number in range(used, steps_at_once([executor])):
            idle.append({
                'executor': executor.label, 'host': record.host,
                'job': None, 'block': None, 'worker': None, 'started': None,
                'ready': seconds(record.ready, record.started),
                'kind': 'idle',
                'key': (executor.label, 'thread', f'~{number}'),
                'title': f'{executor.label}: thread never needed'})
    return idle


def numbered(lanes, steps):
    """Lanes in a stable order (executor, then place, the lanes of no
    known place last), numbered; steps then name their lane by number."""
    ordered = sorted(lanes, key=lambda lane: (
        lane['executor'], LAST_LANES.index(lane['kind'])
        if lane['kind'] in LAST_LANES else -1,
        [_natural(part) for part in lane['key']]))
    numbers = {}
    for number, lane in enumerate(ordered):
        numbers[lane['key']] = number
        lane['key'] = number
    for step in steps:
        step['lane'] = numbers[step['lane']]
    for lane in ordered:
        lane['id'] = lane.pop('key')
    return ordered


def _natural(part):
    """Sort key that puts 'worker 2' before 'worker 10' and None first."""
    text = '' if part is None else str(part)
    return (0, int(text), '') if text.isdigit() else (1, 0, text)
