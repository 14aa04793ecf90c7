"""The committed generated code must be what `make proto` produces now."""

from __future__ import annotations

from pathlib import Path

from linkmesh_devstack import protogen


def test_committed_generated_code_is_fresh(tmp_path: Path) -> None:
    fresh = protogen.generate(out_root=tmp_path)
    assert fresh, "protoc generated nothing"
    committed_root = protogen.OUT_ROOT / protogen.GENERATED_PACKAGE
    fresh_files = {p.relative_to(tmp_path / protogen.GENERATED_PACKAGE): p.read_bytes() for p in fresh}
    committed = {
        p.relative_to(committed_root): p.read_bytes() for p in committed_root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    stale = sorted(str(k) for k in fresh_files if committed.get(k) != fresh_files[k])
    extra = sorted(str(k) for k in committed if k not in fresh_files)
    assert not stale and not extra, f"generated code is stale; run `make proto` (stale: {stale}, not generated: {extra})"


def test_every_proto_is_generated() -> None:
    names = {p.stem for p in protogen.proto_files()}
    assert {"lookup", "profile"} <= names
