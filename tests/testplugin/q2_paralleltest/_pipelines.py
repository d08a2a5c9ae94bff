"""Pipelines around the steps, as plugins write them."""


def square_all(ctx, ints, partitions=4, delay=0.0, record_dir='', burn=0):
    split = ctx.get_action('paralleltest', 'split_ints')
    square = ctx.get_action('paralleltest', 'square')
    merge = ctx.get_action('paralleltest', 'merge_ints')
    parts = [split(ints, part=i, partitions=partitions)
             for i in range(partitions)]
    squared = [square(p.part, delay=delay, record_dir=record_dir,
                      burn=burn).squared for p in parts]
    merged, = merge(squared)
    return merged


def nested_square(ctx, ints, partitions=2, delay=0.0, record_dir=''):
    """Two ``square_all`` Pipelines on halves, merged."""
    split = ctx.get_action('paralleltest', 'split_ints')
    square_all = ctx.get_action('paralleltest', 'square_all')
    merge = ctx.get_action('paralleltest', 'merge_ints')
    halves = [split(ints, part=i, partitions=2).part for i in range(2)]
    squared = [square_all(half, partitions=partitions, delay=delay,
                          record_dir=record_dir)[0] for half in halves]
    merged, = merge(squared)
    return merged


def square_then_fail(ctx, ints, message='this step fails on purpose'):
    """A failing step between two good ones; the last one never runs."""
    square = ctx.get_action('paralleltest', 'square')
    fail = ctx.get_action('paralleltest', 'fail')
    merge = ctx.get_action('paralleltest', 'merge_ints')
    squared, = square(ints)
    failed, = fail(squared, message=message)
    merged, = merge([failed, squared])
    return merged


def square_then_die(ctx, ints, how='exit', record_dir='', delay=0.0):
    square = ctx.get_action('paralleltest', 'square')
    die = ctx.get_action('paralleltest', 'kill_worker')
    squared, = square(ints)
    survived, = die(squared, how=how, record_dir=record_dir, delay=delay)
    return survived


def peek_sum(ctx, ints, partitions=2):
    """Looks inside an intermediate result (``.view``) before going on."""
    split = ctx.get_action('paralleltest', 'split_ints')
    merge = ctx.get_action('paralleltest', 'merge_ints')
    parts = [split(ints, part=i, partitions=partitions).part
             for i in range(partitions)]
    non_empty = [p for p in parts if p.view(list)]
    merged, = merge(non_empty)
    return merged
