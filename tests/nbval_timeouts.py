"""pytest plugin (``-p tests.nbval_timeouts``): a longer wait for a cell's outputs under nbval.

nbval waits only 5 s for each output message once a cell has finished; on a busy 2-core
machine a long training cell can deliver its last messages later than that and fail with
"Timeout of 5 seconds exceeded waiting for output". The cell timeout is unchanged.
"""

OUTPUT_TIMEOUT_S = 120


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = OUTPUT_TIMEOUT_S
