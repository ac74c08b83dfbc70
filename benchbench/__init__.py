"""benchbench: benchmark and profile deep-learning training optimizations.

suite YAML -> validated configs (suite.py, config.py) -> one worker process each (launch.py,
worker.py: models/, techniques/, engines/, collectors/) -> flat rows (results.py) ->
tables (tables.py) and, later, compare / gate / report.
"""

__version__ = "0.1.0"
