"""`python -m benchbench.worker ...` (also torchrun's `--module benchbench.worker`)."""

import os
import sys

# `python -m` puts the current directory first on the import path: a stray module there (numpy.py,
# a user's models.py) would run in every worker. benchbench itself is imported by now; PYTHONPATH's
# entries stay, and a suite's `py:` model is resolved where the suite names it (models.module).
if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

if sys.argv[1:] == ["--zygote"]:  # before any import that might touch CUDA (worker/zygote.py)
    from benchbench.worker.zygote import serve

    rc = serve()
else:
    from benchbench.worker.measure import main  # noqa: E402  (after the import path is fixed)

    rc = main()
# Leave without interpreter teardown: after a compiled run it took ~10 s (seen on an H100),
# and everything this process owes is already on disk (the result was fsynced last).
sys.stdout.flush()
sys.stderr.flush()
os._exit(rc)
