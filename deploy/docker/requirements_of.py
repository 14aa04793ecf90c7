"""Prints the third-party requirements of the given project folders' ``pyproject.toml``
(the project's own ``linkmesh-*`` distributions left out, but the extras a folder asks of
another given folder included: ``linkmesh-core[connector]`` brings libs/core's ``connector``
extra), one per line, so an image can install its dependencies in a layer built before the
source is copied.

    python requirements_of.py libs/core services/profile > requirements.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def requirements(folders: list[str]) -> list[str]:
    projects = [tomllib.loads((Path(folder) / "pyproject.toml").read_text())["project"] for folder in folders]
    extras = {project["name"].lower(): project.get("optional-dependencies", {}) for project in projects}
    wanted = [r for project in projects for r in project.get("dependencies", [])]
    out: list[str] = []
    for requirement in wanted:
        name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower()
        if not name.startswith("linkmesh"):
            if requirement not in out:
                out.append(requirement)
        elif name in extras and (asked := re.search(r"\[([^\]]*)\]", requirement)):
            for extra in asked.group(1).split(","):
                wanted.extend(extras[name].get(extra.strip(), []))
    return out


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
