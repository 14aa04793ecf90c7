"""Prints the third-party requirements of the given project folders' ``pyproject.toml``
(the project's own ``linkmesh-*`` distributions left out), one per line, so an image can
install its dependencies in a layer built before the source is copied.

    python requirements_of.py libs/core services/profile > requirements.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def requirements(folders: list[str]) -> list[str]:
    out: list[str] = []
    for folder in folders:
        project = tomllib.loads((Path(folder) / "pyproject.toml").read_text())["project"]
        for requirement in project.get("dependencies", []):
            name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
            if not name.lower().startswith("linkmesh") and requirement not in out:
                out.append(requirement)
    return out


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
