"""What the bench/<question>/analyze.py scripts share: the committed rows of a question, the line that
says where a table comes from (device, date, commit, rows), and a plain markdown table."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "results" / "examples"
sys.path.insert(0, str(ROOT))


def provenance(*dirs: str) -> str:
    """'Device, date, commit; rows: results/examples/...' for the committed result folders named."""
    parts = []
    for d in dirs:
        p = EXAMPLES / d / "provenance.json"
        info = json.loads(p.read_text()) if p.exists() else {}
        parts.append(f"{info.get('device', '?')}, {info.get('date', '?')}, commit {info.get('commit', '?')}: "
                     f"`results/examples/{d}/`")
    return "Measured on " + parts[0] + "." if len(parts) == 1 else "Measured on:\n" + "\n".join(f"- {x}" for x in parts)


def load(*dirs: str, pattern: str = "rows*.jsonl"):
    """The rows of committed result folders (every rows*.jsonl), as one DataFrame."""
    import pandas as pd

    rows = []
    for d in dirs:
        for f in sorted((EXAMPLES / d).glob(pattern)):
            rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return pd.DataFrame(rows)


def cell(v, fmt: str = "{}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v).replace("|", "\\|")


def markdown(header: list[str], rows: list[list], right: set[int] | None = None) -> str:
    """A markdown table; columns whose index is in `right` are right-aligned."""
    right = right if right is not None else set(range(1, len(header)))
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
