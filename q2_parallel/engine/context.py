"""The ``Context`` a Pipeline body gets in a parallel run."""
from qiime2.sdk import Context, PluginManager

from q2_parallel.internals import qiime2_private


class ParallelContext(Context):
    """Like the framework's ``Context``, but ``get_action`` hands back
    callables that submit the action to the run and return stand-ins.
    They have the action's signature, so a wrong argument fails at the
    call, as it does in a serial run."""

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
            # The rewritten signature passes the signature's template first.
            return self.session.submit(action_obj, args[1:], kwargs,
                                       parent_ctx=self)

        return qiime2_private.signed_like(action_obj, submit, action_obj.id)
