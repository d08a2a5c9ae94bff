"""The facts of a run's report, as plain data (the JSON file): every step on
one timeline, in seconds from the start of the run as the main process saw
it, the lanes they ran in, and the numbers that say where the time went.

Steps in worker processes time themselves on their host's clock; each
host's clock is moved onto the main process's so that a step starts no
earlier than Parsl launched it and ends no later than its result came back.
"""
import math

from q2_parallel.cli.run import command_line_name
from q2_parallel.config.capacity import steps_at_once
from q2_parallel.internals import parsl_private

FORMAT = 'q2-parallel run report'
VERSION = 1
# Parsl's task states, as the report names them.
STATES = {'exec_done': 'done', 'memo_done': 'reused', 'failed': 'failed',
          'dep_fail': 'input failed', 'pending': 'waiting',
          'unsched': 'waiting', 'fail_retryable': 'retrying'}
ENDED_BADLY = ('failed', 'input failed')
# Lanes of steps whose place is not known, after an executor's others.
LAST_LANES = ('unknown', 'not started')
# Above this share of the wall time, a cost gets its advice.
NOTABLE = 0.2


def run_facts(record, outcome, stopped):
    """The report's facts for the run in ``record`` (a ``RunRecord``),
    which ended with ``outcome`` ('succeeded', 'failed' or 'interrupted')
    at ``stopped`` (``time.time()``)."""
    entries = record.steps()
    tasks = [parsl_private.task_facts(entry.future) for entry in entries]
    clocks = [entry.final_clock() for entry in entries]
    offsets = _clock_offsets(tasks, clocks, record.host)
    index = {id(entry.future): number for number, entry in enumerate(entries)}
    lanes = {}
    steps = []
    for number, (entry, task, clock) in enumerate(zip(entries, tasks,
                                                      clocks)):
        step = _step(number, entry, task, clock, offsets, record.started,
                     stopped)
        step['depends'] = [index[id(f)] for f in task['depends']
                           if id(f) in index]
        lane = _lane(entry, clock, task['launched'] is not None, offsets,
                     record)
        step['lane'] = lanes.setdefault(lane['key'], lane)['key']
        steps.append(step)
    for step in steps:
        if step['retries'] and step['launched'] is not None:
            step['ready'] = max([step['invoked']] + [
                steps[d]['done'] for d in step['depends']
                if steps[d]['done'] is not None])
    lanes = _numbered(list(lanes.values()) + _idle_threads(record, lanes),
                      steps)
    executors = _executors(record, lanes, steps)
    numbers = _numbers(steps, executors, round(stopped - record.started, 3))
    return {'format': FORMAT, 'version': VERSION, 'outcome': outcome,
            'started': record.started, 'host': record.host,
            'parsl_ready': _seconds(record.ready, record.started),
            **numbers,
            'headline': _headline(outcome, steps, numbers['wall_seconds']),
            'executors': executors, 'lanes': lanes, 'steps': steps}


def _seconds(moment, start):
    return None if moment is None else round(moment - start, 3)


def _clock_offsets(tasks, clocks, main_host):
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


def _step(number, entry, task, clock, offsets, start, stopped):
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
    if task['reused']:
        state = 'reused'
    # Parsl counts the last, given-up try among the failed ones.
    retries = max(task['tries_failed'] - (state in ENDED_BADLY), 0)
    return {
        'id': number, 'step': entry.name,
        'name': command_line_name(entry.name),
        'action': entry.name.split(':', 1)[-1],
        'executor': entry.label, 'state': state,
        'retries': retries,
        'invoked': _seconds(task['invoked'], start),
        'ready': _seconds(task['launched'], start),
        'launched': _seconds(task['launched'], start),
        'started': _seconds(started, start),
        'ended': _seconds(ended, start),
        'returned': _seconds(task['returned'], start),
        'done': _seconds(task['done'], start),
        'stopped_while_running': ended is None and started is not None,
        'host': None if clock is None else clock.host,
        'pid': None if clock is None else clock.pid,
        'thread': None if clock is None else clock.thread,
    }


def _lane(entry, clock, launched, offsets, record):
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
                    ready=_seconds(record.ready, record.started),
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
                started=_seconds(clock.process_started + offset,
                                 record.started),
                ready=_seconds(clock.process_ready + offset, record.started),
                title=f'{entry.label}: {where}, {clock.host}, worker {worker}')
    return lane


def _idle_threads(record, lanes):
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
                'ready': _seconds(record.ready, record.started),
                'kind': 'idle',
                'key': (executor.label, 'thread', f'~{number}'),
                'title': f'{executor.label}: thread never needed'})
    return idle


def _numbered(lanes, steps):
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


def _executors(record, lanes, steps):
    """Each executor of the run: its class, how many steps it can run at
    once (None: as many as Parsl decides), and when it was ready (its
    first worker could run steps), in seconds from the start."""
    described = []
    for executor in record.executors:
        capacity = steps_at_once([executor])
        ready = [lane['ready'] for lane in lanes
                 if lane['executor'] == executor.label
                 and lane['ready'] is not None]
        described.append({
            'label': executor.label, 'class': type(executor).__name__,
            'capacity': None if capacity == math.inf else capacity,
            'ready': min(ready) if ready else None,
            'steps': sum(step['executor'] == executor.label
                         for step in steps)})
    return described


def _numbers(steps, executors, wall):
    """Wall time, the steps' own time, parallelism, the critical path and
    where the wall time went, each with what would help."""
    spans = [(s['started'], s['ended']) for s in steps
             if s['started'] is not None and s['ended'] is not None]
    step_seconds = round(sum(end - start for start, end in spans), 3)
    capacities = [e['capacity'] for e in executors]
    capacity = None if None in capacities else sum(capacities)
    achieved = round(step_seconds / wall, 2) if wall > 0 else 0.0
    path = _critical_path(steps)
    path_seconds = round(sum(steps[i]['ended'] - steps[i]['started']
                             for i in path), 3)
    used = [e['ready'] for e in executors
            if e['steps'] and e['ready'] is not None]
    startup = min(max(used), wall) if used else 0.0
    ready = {e['label']: e['ready'] or 0.0 for e in executors}
    waiting = _covered([(max(s['launched'], ready.get(s['executor'], 0.0)),
                         s['started']) for s in steps
                        if s['launched'] is not None
                        and s['started'] is not None])
    local = {e['label'] for e in executors
             if e['class'] == 'ThreadPoolExecutor'}
    on_main = _covered([(s['started'], s['ended']) for s in steps
                        if s['executor'] in local and s['started'] is not None
                        and s['ended'] is not None])
    return {
        'wall_seconds': wall,
        'step_seconds': step_seconds,
        'parallelism': {
            'achieved': achieved, 'peak': _peak(spans),
            'capacity': capacity,
            'advice': _parallelism_advice(achieved, capacity, path_seconds,
                                          wall, len(spans))},
        'critical_path': {
            'seconds': path_seconds, 'steps': path,
            'advice': _critical_path_advice(path_seconds, wall)},
        'startup': _share(startup, wall, _startup_advice),
        'waiting_for_workers': _share(waiting, wall, _waiting_advice),
        'steps_on_main_process': _share(on_main, wall, _main_advice),
    }


def _critical_path(steps):
    """The chain of dependent steps whose own times add up to the most:
    no schedule can finish the run sooner.  Steps come in the order they
    were submitted, which puts every step after those it depends on."""
    best = []
    for step in steps:
        own = (step['ended'] - step['started']
               if step['ended'] is not None and step['started'] is not None
               else 0.0)
        before = max(step['depends'], key=lambda d: best[d][0],
                     default=None)
        total = own + (best[before][0] if before is not None else 0.0)
        best.append((total, before))
    if not best:
        return []
    last = max(range(len(best)), key=lambda i: best[i][0])
    path = []
    while last is not None:
        path.append(last)
        last = best[last][1]
    return path[::-1]


def _covered(intervals):
    """Seconds during which at least one of ``intervals`` lasted."""
    total, end = 0.0, -math.inf
    for start, stop in sorted(intervals):
        if start < stop and stop > end:
            total += stop - max(start, end)
            end = stop
    return round(total, 3)


def _peak(spans):
    """The most steps that ran at the same moment."""
    events = sorted([(start, 1) for start, _ in spans]
                    + [(end, -1) for _, end in spans])
    peak = running = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def _share(seconds, wall, advice):
    share = seconds / wall if wall > 0 else 0.0
    return {'seconds': round(seconds, 3), 'share': round(share, 3),
            'advice': advice(share)}


def _parallelism_advice(achieved, capacity, path_seconds, wall, ran):
    if capacity == 1:
        return ('Steps ran one at a time: this config allows one step at a '
                'time. Raise max_threads (ThreadPoolExecutor) or '
                'max_workers_per_node (HighThroughputExecutor).')
    if ran and path_seconds >= 0.8 * wall:
        return ('The longest chain of dependent steps took most of the run: '
                'more workers would not help; splitting its steps finer '
                '(more partitions) might.')
    places = ran if capacity is None else min(capacity, ran)
    if places and achieved < 0.5 * places:
        return (f'On average {achieved:g} steps ran at once, of the '
                f'{"unlimited" if capacity is None else capacity} the config '
                'allows: the Pipeline had too few steps ready at a time; '
                'more partitions give more workers something to do.')
    return ('Steps kept the configured workers busy: more workers or nodes '
            'would make the run faster.')


def _critical_path_advice(path_seconds, wall):
    return (f'No schedule could finish these steps in less than '
            f'{path_seconds:g} s, the longest chain of steps that wait for '
            'each other; the rest of the wall time is start-up, waiting '
            'and work that did not overlap.' if wall else '')


def _startup_advice(share):
    if share < NOTABLE:
        return 'Start-up cost little of this run.'
    return (f'Starting the executors took {share:.0%} of the run: worker '
            'processes and Slurm jobs take seconds to minutes to start, '
            'threads start at once. For short runs, leave quick steps '
            'unmapped (they run in the thread pool).')


def _waiting_advice(share):
    if share < NOTABLE:
        return 'Steps seldom waited for a free worker.'
    return (f'Steps waited for a free worker during {share:.0%} of the run: '
            'more workers (max_threads, max_workers_per_node, max_blocks) '
            'would let them start sooner.')


def _main_advice(share):
    if share < NOTABLE:
        return 'Little of the run went to steps in the main process.'
    return (f'Steps ran in the main process\'s threads during {share:.0%} '
            'of the run: threads share one Python interpreter, so heavy '
            'Python steps run better mapped to a HighThroughputExecutor.')


def _headline(outcome, steps, wall):
    """One sentence on how the run ended."""
    done = sum(step['state'] in ('done', 'reused') for step in steps)
    if outcome == 'succeeded':
        return f'The run succeeded in {wall:g} s: {_steps(done)}.'
    failed = [step['name'] for step in steps if step['state'] == 'failed']
    running = sum(step['state'] == 'running' for step in steps)
    if outcome == 'failed':
        which = f': {", ".join(failed)} failed' if failed else ''
        return (f'The run failed after {wall:g} s{which}; {_steps(done)} '
                'had finished. No output was written.')
    return (f'The run was interrupted after {wall:g} s: {_steps(done)} '
            f'had finished and {running} still ran. No output was '
            'written.')


def _steps(count):
    return f'{count} step' + ('' if count == 1 else 's')
