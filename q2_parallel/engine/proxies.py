"""Stand-ins for the results of steps that have not finished yet.

``ctx.get_action(...)(...)`` inside a parallel Pipeline returns at once with
``ProxyResults``; its elements are ``ProxyArtifact``/``ProxyVisualization``
objects.  They can be handed to later steps as they are (the engine turns
them into Parsl dependencies), and they turn into the real result, waiting
for it, only when code looks inside them: ``.view()``, ``.type``,
``.validate()``, ``==``...  Being subclasses of the framework's ``Artifact``
and ``Visualization``, they pass the framework's own ``isinstance`` checks
on a Pipeline's outputs.
"""
from qiime2.core.type import is_visualization_type
from qiime2.sdk import Artifact, Results, Visualization

from .errors import root_cause


class Step:
    """One submitted action: what it is and the future of its output."""

    def __init__(self, action, future, load):
        self.action = action
        self.future = future
        self._load = load

    @property
    def name(self):
        return f'{self.action.plugin_id}:{self.action.id}'

    @property
    def output_names(self):
        return tuple(self.action.signature.outputs)

    def failure(self):
        """The failure that stopped the step, once it has; else None.
        (``repr`` shows it: debuggers and notebooks call ``repr``, which
        must not raise.)"""
        if not self.future.done():
            return None
        try:
            error = self.future.exception()
        except BaseException as cancelled:
            return cancelled
        return None if error is None else root_cause(error)

    def results(self):
        """The step's ``Results``; raises the failure that stopped it."""
        try:
            output = self.future.result()
        except BaseException as error:
            raise root_cause(error) from None
        return Results(self.output_names, output.results(self._load))


class ProxyResults(Results):
    """Stand-in for the ``Results`` of a step: the same named tuple, whose
    elements are stand-ins for the step's outputs."""

    def __new__(cls, step):
        specs = step.action.signature.outputs.values()
        items = [_proxy_class(spec.qiime_type)._q2p_new(step, index)
                 for index, spec in enumerate(specs)]
        self = super().__new__(cls, step.output_names, items)
        object.__setattr__(self, '_q2p_step', step)
        return self

    def _result(self):
        """The real ``Results``, waiting for the step (the spec's name)."""
        return self._q2p_step.results()

    result = _result

    def done(self):
        return self._q2p_step.future.done()

    def __repr__(self):
        failure = self._q2p_step.failure()
        if failure is not None:
            return f'<results of {self._q2p_step.name}, failed: {failure!r}>'
        if self.done():
            return repr(self._result())
        return super().__repr__()


class ProxyResult:
    """Behaviour shared by the stand-ins for single results."""

    _q2p_own = frozenset({'_q2p_step', '_q2p_index', '_q2p_result',
                          '_q2p_kind', '_q2p_new', 'done', '__class__',
                          '__dict__'})

    @classmethod
    def _q2p_new(cls, step, index):
        self = object.__new__(cls)
        self.__dict__['_q2p_step'] = step
        self.__dict__['_q2p_index'] = index
        return self

    def _q2p_result(self):
        return self._q2p_step.results()[self._q2p_index]

    def done(self):
        return self._q2p_step.future.done()

    def __getattribute__(self, name):
        if name in ProxyResult._q2p_own:
            return object.__getattribute__(self, name)
        return getattr(self._q2p_result(), name)

    def __setattr__(self, name, value):
        setattr(self._q2p_result(), name, value)

    def __eq__(self, other):
        if isinstance(other, ProxyResult):
            other = other._q2p_result()
        return self._q2p_result() == other

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._q2p_result())

    def __repr__(self):
        step = self.__dict__['_q2p_step']
        failure = step.failure()
        if failure is None and self.done():
            return repr(self._q2p_result())
        name = step.output_names[self.__dict__['_q2p_index']]
        state = 'pending' if failure is None else f'failed: {failure!r}'
        return f'<{self._q2p_kind}: {name} of {step.name}, {state}>'

    def __reduce__(self):
        return self._q2p_result().__reduce__()


class ProxyArtifact(ProxyResult, Artifact):
    _q2p_kind = 'artifact'


class ProxyVisualization(ProxyResult, Visualization):
    _q2p_kind = 'visualization'


def _proxy_class(qiime_type):
    if is_visualization_type(qiime_type):
        return ProxyVisualization
    return ProxyArtifact
