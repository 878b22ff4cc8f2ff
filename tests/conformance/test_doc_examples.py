"""Every example plugin in docs/plugins.md, exactly as printed, passes ``facecast conformance``.

The examples (the code blocks whose first line is ``# file: NAME.py``) are written into a fresh
site folder as one installed distribution, and the suite runs from a folder outside the
repository, as someone who wrote them from the docs alone would run it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .test_broken_plugins import conformance

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"```python\n# file: (\w+)\.py\n(.*?)```", re.S)
# what each example registers, as `facecast conformance` is asked to check it
CHECKS = {
    "facecast_example_policy": ("--starvation-policy", "freeze_frame"),
    "facecast_example_sink": ("--audio-sink", "timer"),
    "facecast_example_motion": ("--motion-generator", "loudness_jaw"),
    "facecast_example_transport": ("--transport", "simple"),
    "facecast_example_feed": ("--backend-feed", "relay"),
    "facecast_example_renderer": ("--renderer", "numpy_reference"),
}


def examples() -> dict[str, str]:
    return {name: body for name, body in BLOCK.findall(DOC.read_text())}


def test_the_guide_has_an_example_of_every_kind():
    assert set(examples()) == set(CHECKS)


@pytest.mark.slow
def test_the_examples_pass_the_suite(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    for name, body in examples().items():
        (site / f"{name}.py").write_text(body)
    info = site / "facecast_examples-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: facecast-examples\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[facecast]\n" + "".join(f"{n} = {n}\n" for n in CHECKS))
    cwd = tmp_path / "author"
    cwd.mkdir()
    args = [a for option, name in CHECKS.values() for a in (option, name)]
    # The demo-avatar check draws 33 200 splats, minutes for a numpy renderer under load; the
    # built-in renderers run it in tests/render.
    code, output, outcomes = conformance(site, cwd, *args, "-k", "not demo_avatar")
    failed = sorted(t for t, o in outcomes.items() if o == "failed")
    assert code == 0 and not failed, f"{failed}\n{output[-4000:]}"
    for option, name in CHECKS.values():
        assert any(name in t and o == "passed" for t, o in outcomes.items()), f"nothing of {name} passed"


def test_a_plugin_installed_from_a_wheel_passes_from_its_own_folder(tmp_path):
    """The guide's policy and motion generator as a real project: built into a wheel, pip-installed,
    checked by `facecast conformance` run from the author's own folder."""
    project = tmp_path / "facecast-guide-examples"
    project.mkdir()
    modules = ["facecast_example_policy", "facecast_example_motion"]
    for name in modules:
        (project / f"{name}.py").write_text(examples()[name])
    entry_points = "".join(f'{name} = "{name}"\n' for name in modules)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "facecast-guide-examples"\nversion = "1.0"\n\n'
        f'[project.entry-points.facecast]\n{entry_points}\n'
        f'[tool.setuptools]\npy-modules = {modules!r}\n'.replace("'", '"'))
    dist, site = tmp_path / "dist", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(project)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   capture_output=True, timeout=300)
    author = tmp_path / "author"
    author.mkdir()
    code, output, outcomes = conformance(site, author, "--starvation-policy", "freeze_frame",
                                         "--motion-generator", "loudness_jaw", "-v")
    assert code == 0, output[-3000:]
    assert sum(o == "passed" for o in outcomes.values()) >= 12
    assert "test session starts" in output, "-v did not reach pytest (the helper adds -q: -v -q shows the header)"
