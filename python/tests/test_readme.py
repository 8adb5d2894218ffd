"""The README's Python quick start runs as written and prints the verdicts it promises: two
scikit-learn networks of the same function are `equivalent`, a control is `not_equivalent`."""

import contextlib
import io
import re

from conftest import ROOT


def quick_start():
    text = (ROOT / "README.md").read_text()
    section = text.split("### Python quick start", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_quick_start_runs_as_written_and_prints_its_verdicts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(quick_start(), "README.md (Python quick start)", "exec"), {"__name__": "__main__"})
    lines = out.getvalue().splitlines()
    assert "A vs B: equivalent" in lines, out.getvalue()
    assert "A vs control: not_equivalent" in lines, out.getvalue()
