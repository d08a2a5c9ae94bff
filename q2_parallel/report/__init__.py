"""The run report: a one-file picture of where a parallel run's time went.

``step_clock`` times each step where it runs, ``recording`` keeps what the
main process knows of the run; ``summary`` turns both into the report's
facts (the JSON file), with ``timeline`` (each step on the main process's
clock, in the lane of the place it ran), ``statistics`` (the numbers) and
``advice`` (a sentence on each); ``page`` draws the facts as one
self-contained HTML page and ``files`` checks and writes the two files.
"""
