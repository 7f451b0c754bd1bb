"""What the benchmarks share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compile_package() -> None:
    """Write inboxrel's bytecode (``__pycache__``) before anything is timed.

    A user's install has it: pip compiles a package's modules when it installs them, and an editable
    install writes them on the first run. A shell with PYTHONDONTWRITEBYTECODE set (this sandbox has it)
    would otherwise recompile every module of ours at each start, ~0.1 s a command that no user pays.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "inboxrel")], check=True,
                   stdout=subprocess.DEVNULL)
