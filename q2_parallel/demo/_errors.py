"""The one exception type of the demo actions."""


class DemoError(ValueError):
    """A demo action was asked for something its input cannot give (an
    out-of-range part, more parts than distinct sequences, conflicting
    partial results)."""
