"""`import slopes` stays light: the optional dependencies load only when used."""

import json
import re
import subprocess
import sys
from pathlib import Path

OPTIONAL = ("pandas", "matplotlib", "sklearn", "scipy", "torch")


def test_import_slopes_loads_no_optional_dependency():
    code = ("import json, sys, slopes; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    loaded = set(json.loads(result.stdout))
    assert "slopes" in loaded and "numpy" in loaded
    assert loaded.isdisjoint(OPTIONAL), sorted(loaded & set(OPTIONAL))


def test_lazy_names_still_import():
    code = ("import slopes; from slopes import Trace, History, GradientCheck, check_gradients; "
            "print(Trace.__module__, History.__module__, check_gradients.__module__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.split() == ["slopes.trace", "slopes.callbacks", "slopes.gradcheck"]


def test_the_version_is_the_one_pyproject_gives():
    # A regular expression, not tomllib: Python 3.10 has no tomllib.
    import slopes
    from slopes.version import __version__

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert __version__ == slopes.__version__ == re.search(r'^version = "(.+)"$', text, re.M)[1]


def test_slopes_says_it_is_typed():
    """A py.typed marker (PEP 561), shipped with the package: type checkers read the hints."""
    from importlib import resources

    assert resources.files("slopes").joinpath("py.typed").is_file()
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"py.typed"' in pyproject
