"""`python -m benchbench.worker ...` (also torchrun's `--module benchbench.worker`)."""

import os
import sys

from benchbench.worker.measure import main

rc = main()
# Leave without interpreter teardown: after a compiled run it took ~10 s (seen on an H100),
# and everything this process owes is already on disk (the result was fsynced last).
sys.stdout.flush()
sys.stderr.flush()
os._exit(rc)
