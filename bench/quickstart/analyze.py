"""The table `benchbench run suites/quickstart.yaml` prints, from the committed rows of one such run.

    python bench/quickstart/analyze.py [RESULT_DIR]   (default quickstart-cpu)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, provenance  # noqa: E402
from rich.console import Console  # noqa: E402

from benchbench.analysis import summary  # noqa: E402
from benchbench.present import terminal  # noqa: E402
from benchbench.store import results  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "quickstart-cpu"
run = json.loads((EXAMPLES / d / "run.json").read_text())
t = summary.summary(results.load(EXAMPLES / d), run.get("baseline_config_id"))
print(provenance(d))
print()
print("```")
console = Console(width=140, record=True, file=open("/dev/null", "w"), color_system=None)
console.print(terminal.render(t, title="quickstart"))
print("\n".join(line.rstrip() for line in console.export_text().rstrip().splitlines()))
print(f"{run.get('wall_s', 0):.1f} s for {len(results.read_rows(EXAMPLES / d))} runs, of which measured steps "
      f"{run.get('measured_s', 0):.1f} s")
print("```")
