"""The run report: a one-file picture of where a parallel run's time went.

``step_clock`` times each step where it runs, ``recording`` keeps what the
main process knows of the run, ``summary`` turns both into the report's
facts (the JSON file), ``page`` draws them as one self-contained HTML page
and ``files`` checks and writes the two files.
"""
