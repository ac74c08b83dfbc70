"""The measuring process: one fresh worker per (config, repeat).

    python -m benchbench.worker CONFIG_JSON RESULT_JSON [ARTIFACTS_DIR]

measure.py builds the model (models/), applies techniques/, wraps it in an engine (engines/), warms
up, times the window (timing.py) with collectors/ around it, and writes one result dict. Importing
this package is cheap: torch is imported by measure.py only.
"""
