"""The facts of a run's report, as plain data (the JSON file): the steps
on one timeline, the lanes they ran in, the executors, and the numbers that
say where the time went."""
import math

from q2_parallel.config.capacity import steps_at_once
from q2_parallel.internals import parsl_private

from . import advice, statistics, timeline

FORMAT = 'q2-parallel run report'
VERSION = 1


def run_facts(record, outcome, stopped):
    """The report's facts for the run in ``record`` (a ``RunRecord``),
    which ended with ``outcome`` ('succeeded', 'failed' or 'interrupted')
    at ``stopped`` (``time.time()``)."""
    entries = record.steps()
    tasks = [parsl_private.task_facts(entry.future) for entry in entries]
    clocks = [entry.final_clock() for entry in entries]
    offsets = timeline.clock_offsets(tasks, clocks, record.host)
    index = {id(entry.future): number for number, entry in enumerate(entries)}
    lanes = {}
    steps = []
    for number, (entry, task, clock) in enumerate(zip(entries, tasks,
                                                      clocks)):
        step = timeline.step_facts(number, entry, task, clock, offsets,
                                   record.started)
        step['depends'] = [index[id(f)] for f in task['depends']
                           if id(f) in index]
        lane = timeline.lane_of(entry, clock, task['launched'] is not None,
                                offsets, record)
        step['lane'] = lanes.setdefault(lane['key'], lane)['key']
        steps.append(step)
    for step in steps:
        if step['retries'] and step['launched'] is not None:
            step['ready'] = max([step['invoked']] + [
                steps[d]['done'] for d in step['depends']
                if steps[d]['done'] is not None])
    lanes = timeline.numbered(
        list(lanes.values()) + timeline.idle_threads(record, lanes), steps)
    executors = _executors(record, lanes, steps)
    wall = round(stopped - record.started, 3)
    return {'format': FORMAT, 'version': VERSION, 'outcome': outcome,
            'headline': advice.headline(outcome, steps, wall),
            'started': record.started, 'host': record.host,
            'parsl_ready': timeline.seconds(record.ready, record.started),
            **statistics.numbers(steps, executors, wall),
            'executors': executors, 'lanes': lanes, 'steps': steps}


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
