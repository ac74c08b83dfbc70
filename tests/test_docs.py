"""Every number in the docs points to committed rows: each generated table equals what its script
prints from them, and every results/examples path the docs cite exists."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_cited_results_path_exists():
    cited = {m.rstrip(".)") for f in DOCS for m in re.findall(r"results/examples/[A-Za-z0-9_./-]+", f.read_text())}
    missing = sorted(p for p in cited if not (ROOT / p).exists())
    assert not missing, missing


def test_generated_tables_match_their_scripts():
    out = subprocess.run([sys.executable, "bench/docs.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_docs_speak_of_the_product_only():
    words = re.compile(r"device call|GPU call|lent (GPU )?machines?|\bissue [0-9]+\b|\bsession\b", re.I)
    hits = [f"{f.name}:{i}" for f in DOCS for i, line in enumerate(f.read_text().splitlines(), 1) if words.search(line)]
    assert not hits, hits
