"""An image's Python environment, built as ``deploy/docker/Dockerfile`` builds it, here.

The Dockerfile installs the third-party requirements ``requirements_of.py`` lists for
``libs/core`` and the image's ``SERVICE_DIR`` (with what they depend on), then those two
folders with ``--no-deps``: nothing else. The tests' own virtualenv has every service and
every dependency installed, so a service started from it cannot show what its image lacks.
``build`` makes a virtualenv holding exactly the image's distributions (linked from the tests'
virtualenv, so no package index is needed) and installs the two folders into it with pip, as
the image does; a service started from it imports only what its image would hold.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# What the Dockerfile's first pip call installs before the requirements.
BUILD_TOOLS = ["pip", "setuptools", "wheel"]


def requirements(service_dir: str) -> list[str]:
    sys.path.insert(0, str(ROOT / "deploy" / "docker"))
    try:
        from requirements_of import requirements as listed
    finally:
        sys.path.remove(str(ROOT / "deploy" / "docker"))
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return listed(["libs/core", service_dir])
    finally:
        os.chdir(old)


def closure(requirements: list[str]) -> set[str]:
    """The distributions pip installs for ``requirements``: each, with its extras, and what
    they require in turn, markers evaluated for this interpreter."""
    extras_of: dict[str, set[str]] = {}
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name in extras_of and set(requirement.extras) <= extras_of[name]:
            continue
        extras = extras_of.setdefault(name, set())
        extras.update(requirement.extras)
        for line in metadata.distribution(name).requires or []:
            todo.extend((Requirement(line), e) for e in ("", *extras))
    return set(extras_of)


def build(target: Path, service_dir: str) -> Path:
    """A virtualenv at ``target`` holding what the image built for ``service_dir`` holds;
    returns its ``bin`` folder (the image's ``/venv/bin``)."""
    venv.EnvBuilder(with_pip=False).create(target)
    site = next(target.glob("lib/python*/site-packages"))
    for name in sorted(closure(requirements(service_dir) + BUILD_TOOLS)):
        dist = metadata.distribution(name)
        base = Path(str(dist.locate_file("")))
        for file in dist.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue  # scripts outside site-packages; byte code is made again
            source, dest = base / file, site / file
            if source.exists() and not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.symlink_to(source)
    sources = target / "src"
    for folder in ("libs/core", service_dir):  # copied: a build writes into its source folder
        shutil.copytree(ROOT / folder, sources / folder, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
    subprocess.run(
        [
            str(target / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            str(sources / "libs/core"),
            str(sources / service_dir),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return target / "bin"
