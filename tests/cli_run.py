"""Running the ``slopes`` command from a test: in this process, or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys

from slopes.cli import main


def cli(capsys, *args: object) -> tuple[int, str, str]:
    """Run ``slopes ARGS`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def process(*args: object, **kwargs) -> subprocess.Popen:
    """``slopes ARGS`` as a real process (Ctrl-C, closed pipes, umask), pipes open."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "slopes.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, **kwargs)
