"""The ``Context`` a Pipeline body gets in a parallel run."""
from qiime2.sdk import Context, PluginManager


class ParallelContext(Context):
    """Like the framework's ``Context``, but ``get_action`` hands back
    callables that submit the action to the run and return stand-ins."""

    def __init__(self, session, parent=None):
        super().__init__(parent=parent)
        self.session = session

    def get_action(self, plugin, action):
        plugin_name = plugin.replace('_', '-')
        try:
            plugin_obj = PluginManager().plugins[plugin_name]
        except KeyError:
            raise ValueError('A plugin named %r could not be found.'
                             % plugin_name)
        try:
            action_obj = plugin_obj.actions[action]
        except KeyError:
            raise ValueError('An action named %r was not found for plugin %r'
                             % (action, plugin_name))

        def submit(*args, **kwargs):
            return self.session.submit(action_obj, args, kwargs,
                                       parent_ctx=self)

        submit.__name__ = submit.__qualname__ = action_obj.id
        submit.__doc__ = action_obj._build_numpydoc()
        return submit
