"""Jobs that exist only for the test suite: controllable text steps.

Loaded through ``RODAN_JOB_PACKAGES`` by the test session and its workers.
"""

__version__ = "test"
