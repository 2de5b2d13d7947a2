"""Quality: Great Expectations suites from the standard and row-level verdicts for quarantine.

Importing great_expectations costs seconds; import ``quality.validate`` only where rows are validated.
"""
