"""Does `benchbench history regressions` name the commit that planted two kernels, and only it? The committed
runs of 8 commits (bench/history/run.sh) added to a fresh history, then `history show` and `history
regressions` as markdown.

    python bench/history/analyze.py [show|regressions] [METRIC]   (default: regressions tokens_per_s)
"""

import contextlib
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, provenance  # noqa: E402

from benchbench import cli  # noqa: E402

what = sys.argv[1] if len(sys.argv) > 1 else "regressions"
metric = sys.argv[2] if len(sys.argv) > 2 else "tokens_per_s"
runs = sorted((EXAMPLES / "history-h200").glob("run-*"))
with tempfile.TemporaryDirectory() as tmp:
    db = str(Path(tmp) / "history.duckdb")
    with contextlib.redirect_stderr(io.StringIO()):
        if cli.main(["history", "add", *map(str, runs), "--history-db", db]):
            raise SystemExit("history add failed")
    print(provenance("history-h200"))
    print()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cli.main(["history", what, "--history-db", db, "--metric", metric, "--format", "markdown"])
    print(out.getvalue().rstrip("\n"))
