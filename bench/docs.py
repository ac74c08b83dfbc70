"""The generated tables of README.md and docs/*.md: each sits between
    <!-- generated: python bench/<question>/analyze.py [ARGS] -->
    ...
    <!-- end generated -->
and is exactly what that command prints from the committed rows.

    python bench/docs.py           # rewrite every block from its command
    python bench/docs.py --check   # exit 1 and name the blocks that differ (tests/test_docs.py does this)
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- generated: (?P<cmd>[^\n]+?) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def run(cmd: str) -> str:
    args = shlex.split(cmd)
    if args[0] == "python":
        args[0] = sys.executable
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{cmd}: exit {out.returncode}\n{out.stderr[-2000:]}")
    return out.stdout.rstrip("\n") + "\n"


def blocks(text: str):
    for m in BLOCK.finditer(text):
        yield m


def main(argv=None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for f in files():
        text = f.read_text()
        new = BLOCK.sub(lambda m: m.group(1) + run(m.group("cmd")) + m.group(4), text)
        if new != text:
            stale.append(f.relative_to(ROOT))
            if not check:
                f.write_text(new)
    if check and stale:
        print("generated tables differ from their commands' output in: " + ", ".join(map(str, stale))
              + " (python bench/docs.py rewrites them)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
