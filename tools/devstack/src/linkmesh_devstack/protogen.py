"""Generates the Python code of the contracts in protos/ (make proto).

Output: messages (``*_pb2.py``), gRPC stubs (``*_pb2_grpc.py``) and mypy-protobuf
type stubs (``*.pyi``) under libs/core/src/linkmesh/. The staleness test calls
``generate`` into a temporary folder and compares it with what is committed.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
PROTO_ROOT = ROOT / "protos"
OUT_ROOT = ROOT / "libs" / "core" / "src"
GENERATED_PACKAGE = "linkmesh"


def proto_files(proto_root: Path = PROTO_ROOT) -> list[Path]:
    return sorted(proto_root.rglob("*.proto"))


def generate(out_root: Path = OUT_ROOT, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Generates code for every proto into ``out_root``; returns the files written."""
    from grpc_tools import protoc

    well_known = resources.files("grpc_tools") / "_proto"
    # google/rpc/status.proto, as googleapis-common-protos ships it (the rich error statuses' package).
    from google.rpc import status_pb2

    googleapis = Path(status_pb2.__file__).parents[2]
    files = proto_files(proto_root)
    plugin_dir = Path(sys.executable).parent
    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        f"-I{well_known}",
        f"-I{googleapis}",
        f"--python_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"--plugin=protoc-gen-mypy={plugin_dir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={plugin_dir / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out={out_root}",
        f"--mypy_grpc_out={out_root}",
        *[str(f.relative_to(proto_root)) for f in files],
    ]
    package_root = out_root / GENERATED_PACKAGE
    if package_root.exists():
        for old in package_root.rglob("*"):
            if old.is_file() and (old.name.endswith(("_pb2.py", "_pb2_grpc.py", "_pb2.pyi", "_pb2_grpc.pyi"))):
                old.unlink()
    out_root.mkdir(parents=True, exist_ok=True)
    code = protoc.main(args)
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code}")
    for folder in [package_root, *[p for p in package_root.rglob("*") if p.is_dir()]]:
        if folder.name == "__pycache__":
            continue
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text("")
    return sorted(p for p in package_root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def main() -> None:
    written = generate()
    for path in written:
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
