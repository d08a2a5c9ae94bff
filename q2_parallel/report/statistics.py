"""The numbers of a run: wall time, the steps' own time, parallelism, the
critical path and where the wall time went, each with what would help."""
import math

from . import advice


def numbers(steps, executors, wall):
    """Wall time, the steps' own time, parallelism, the critical path and
    where the wall time went, each with what would help."""
    spans = [(s['started'], s['ended']) for s in steps
             if s['started'] is not None and s['ended'] is not None]
    step_seconds = round(sum(end - start for start, end in spans), 3)
    capacities = [e['capacity'] for e in executors]
    capacity = None if None in capacities else sum(capacities)
    achieved = round(step_seconds / wall, 2) if wall > 0 else 0.0
    path_seconds, path = _critical_path(steps)
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
            'advice': advice.parallelism(
                achieved, capacity, path_seconds, wall, len(spans),
                startup / wall if wall > 0 else 0.0)},
        'critical_path': {
            'seconds': path_seconds, 'steps': path,
            'advice': advice.critical_path(path_seconds, wall)},
        'startup': _share(startup, wall, advice.startup),
        'waiting_for_workers': _share(waiting, wall,
                                      advice.waiting_for_workers),
        'steps_on_main_process': _share(on_main, wall,
                                        advice.steps_on_main_process),
    }


def _critical_path(steps):
    """The chain of dependent steps whose own times add up to the most (no
    schedule can finish the run sooner): its seconds and its steps that
    ran.  Steps come in the order they were submitted, which puts every
    step after those it depends on."""
    best = []
    for step in steps:
        before = max(step['depends'], key=lambda d: best[d][0],
                     default=None)
        total = _own_time(step) + (0.0 if before is None
                                   else best[before][0])
        best.append((total, before))
    if not best:
        return 0.0, []
    last = max(range(len(best)), key=lambda i: best[i][0])
    seconds, path = best[last][0], []
    while last is not None:
        path.append(last)
        last = best[last][1]
    return round(seconds, 3), [i for i in reversed(path)
                               if _own_time(steps[i])]


def _own_time(step):
    if step['started'] is None or step['ended'] is None:
        return 0.0
    return step['ended'] - step['started']


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
