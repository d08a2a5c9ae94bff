"""One plain sentence for each number of the report: what it means for
this run and what would help."""

# Above this share of the wall time, a cost gets its advice.
NOTABLE = 0.2


def parallelism(achieved, capacity, path_seconds, wall, ran,
                startup_share):
    """On ``achieved`` steps at once, of ``capacity`` (None: unlimited),
    ``ran`` steps having run."""
    if capacity == 1:
        return ('Steps ran one at a time: this config allows one step at a '
                'time. Raise max_threads (ThreadPoolExecutor) or '
                'max_workers_per_node (HighThroughputExecutor).')
    if startup_share >= 0.5:
        return ('Start-up took most of the run, so its steps had little '
                'time to overlap: make start-up shorter first (below).')
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


def critical_path(path_seconds, wall):
    """On the longest chain of steps that wait for each other."""
    return (f'No schedule could finish these steps in less than '
            f'{path_seconds:g} s, the longest chain of steps that wait for '
            'each other; the rest of the wall time is start-up, waiting '
            'and work that did not overlap.' if wall else '')


def startup(share):
    """On the ``share`` of the wall time spent starting executors."""
    if share < NOTABLE:
        return 'Start-up cost little of this run.'
    return (f'Starting the executors took {share:.0%} of the run: worker '
            'processes and Slurm jobs take seconds to minutes to start, '
            'threads start at once. For short runs, leave quick steps '
            'unmapped (they run in the thread pool).')


def waiting_for_workers(share):
    """On the ``share`` of the wall time steps waited for a worker."""
    if share < NOTABLE:
        return 'Steps seldom waited for a free worker.'
    return (f'Steps waited for a free worker during {share:.0%} of the run: '
            'more workers (max_threads, max_workers_per_node, max_blocks) '
            'would let them start sooner.')


def steps_on_main_process(share):
    """On the ``share`` of the wall time steps ran in the main process."""
    if share < NOTABLE:
        return 'Little of the run went to steps in the main process.'
    return (f'Steps ran in the main process\'s threads during {share:.0%} '
            'of the run: threads share one Python interpreter, so heavy '
            'Python steps run better mapped to a HighThroughputExecutor.')


def headline(outcome, steps, wall):
    """One sentence on how the run ended."""
    done = sum(step['state'] in ('done', 'reused') for step in steps)
    if outcome == 'succeeded':
        return f'The run succeeded in {wall:g} s: {_count(done)}.'
    failed = [step['name'] for step in steps if step['state'] == 'failed']
    running = sum(step['state'] == 'running' for step in steps)
    if outcome == 'failed':
        which = f': {", ".join(failed)} failed' if failed else ''
        return (f'The run failed after {wall:g} s{which}; {_count(done)} '
                'had finished.')
    return (f'The run was interrupted after {wall:g} s: {_count(done)} '
            f'had finished and {running} still ran.')


def _count(count):
    return f'{count} step' + ('' if count == 1 else 's')
