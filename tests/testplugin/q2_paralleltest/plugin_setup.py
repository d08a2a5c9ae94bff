"""Registration of the ``paralleltest`` plugin."""
from qiime2.plugin import Float, Int, List, Plugin, Range, Str

from . import _methods, _pipelines
from ._format import (IntList, IntListDirFormat, IntListFormat, from_list,
                      to_list)

plugin = Plugin(
    name='paralleltest', version='0.1.0', package='q2_paralleltest',
    website='https://github.com/q2-parallel/q2-parallel',
    description='Integer lists and Pipelines for testing q2-parallel.',
    short_description='Test plugin for q2-parallel.')

plugin.register_formats(IntListFormat, IntListDirFormat)
plugin.register_semantic_types(IntList)
plugin.register_semantic_type_to_format(IntList, IntListDirFormat)
plugin.register_transformer(to_list)
plugin.register_transformer(from_list)

RECORD = {'record_dir': Str}
STEP = {'delay': Float % Range(0, None), **RECORD}

plugin.methods.register_function(
    function=_methods.split_ints, inputs={'ints': IntList},
    parameters={'part': Int % Range(0, None),
                'partitions': Int % Range(1, None)},
    outputs=[('part', IntList)], name='Split', description='Every n-th.')
plugin.methods.register_function(
    function=_methods.square, inputs={'ints': IntList},
    parameters={**STEP, 'burn': Int % Range(0, None)},
    outputs=[('squared', IntList)], name='Square', description='Squares.')
plugin.methods.register_function(
    function=_methods.merge_ints, inputs={'lists': List[IntList]},
    parameters={}, outputs=[('merged', IntList)], name='Merge',
    description='Merges sorted.')
plugin.methods.register_function(
    function=_methods.fail, inputs={'ints': IntList},
    parameters={'message': Str}, outputs=[('failed', IntList)],
    name='Fail', description='Raises ValueError.')
plugin.methods.register_function(
    function=_methods.kill_worker, inputs={'ints': IntList},
    parameters={'how': Str, **STEP}, outputs=[('survived', IntList)],
    name='Kill worker', description='Ends its own process.')

plugin.pipelines.register_function(
    function=_pipelines.square_all, inputs={'ints': IntList},
    parameters={'partitions': Int % Range(1, None), **STEP,
                'burn': Int % Range(0, None)},
    outputs=[('squared', IntList)], name='Square all',
    description='Split, square, merge.')
plugin.pipelines.register_function(
    function=_pipelines.nested_square, inputs={'ints': IntList},
    parameters={'partitions': Int % Range(1, None), **STEP},
    outputs=[('merged', IntList)], name='Nested square',
    description='square_all on halves.')
plugin.pipelines.register_function(
    function=_pipelines.square_then_fail, inputs={'ints': IntList},
    parameters={'message': Str}, outputs=[('merged', IntList)],
    name='Square then fail', description='The middle step fails.')
plugin.pipelines.register_function(
    function=_pipelines.square_then_die, inputs={'ints': IntList},
    parameters={'how': Str, **STEP}, outputs=[('survived', IntList)],
    name='Square then die', description='The second step ends its process.')
plugin.pipelines.register_function(
    function=_pipelines.peek_sum, inputs={'ints': IntList},
    parameters={'partitions': Int % Range(1, None)},
    outputs=[('merged', IntList)], name='Peek and merge',
    description='Looks inside intermediate results.')
