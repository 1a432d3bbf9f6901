"""Run untrusted, LLM-written Python against assert tests: :func:`run_tests`.

(Full guarantees are documented below; placeholder.)
"""

from ._core import TestResult, run_tests

__all__ = ["run_tests", "TestResult"]
