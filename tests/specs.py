"""Validation of JSON against OpenAPI documents: the vendors' published specs
(``vendor-specs/``; those the repository may not keep, from the folder ``LINKMESH_VENDOR_SPECS``
names) and the gateway's own document."""

from __future__ import annotations

import gzip
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator, Draft202012Validator
from openapi_schema_validator import OAS30Validator

ROOT = Path(__file__).resolve().parents[1]
IN_REPOSITORY = ROOT / "vendor-specs"
FOLDER_VARIABLE = "LINKMESH_VENDOR_SPECS"


def spec_path(relative: str) -> Path:
    """Where the published file ``relative`` (``magento/admin-schema-2.4.9.yaml``) is: kept in the
    repository (perhaps gzipped), else in the folder ``LINKMESH_VENDOR_SPECS`` names. Missing
    (a file whose publisher gives no licence to copy it): the test is skipped, saying how to get it."""
    folders = [IN_REPOSITORY] + ([Path(os.environ[FOLDER_VARIABLE])] if os.environ.get(FOLDER_VARIABLE) else [])
    for folder in folders:
        for candidate in (folder / relative, folder / f"{relative}.gz"):
            if candidate.exists():
                return candidate
    pytest.skip(
        f"{relative} is not in the repository (its publisher gives no licence to copy it): set {FOLDER_VARIABLE} "
        f"to a folder holding it; vendor-specs/README.md says how to get it"
    )


def read_spec(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@cache
def vendor_spec(relative: str) -> dict[str, Any]:
    return yaml.safe_load(read_spec(spec_path(relative)))


def _match(paths: dict[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    for template, item in paths.items():
        pattern = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template.rstrip("/")) + "/?$"
        if re.match(pattern, path):
            return template, item
    raise AssertionError(f"no path of the document matches {path}")


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = doc
        for part in parts:
            node = node[part]
    return node


def response_schema(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any] | None:
    _, item = _match(doc["paths"], path)
    operation = item.get(method.lower())
    assert operation is not None, f"{method} {path} is not in the document"
    responses = operation["responses"]
    response = responses.get(str(status)) or responses.get("default")
    assert response is not None, f"{method} {path} does not document status {status}"
    response = _resolve(doc, response)
    if "schema" in response:  # Swagger 2.0
        return response["schema"]
    content = response.get("content") or {}
    media = content.get("application/json")
    if media is None:
        return None
    return media.get("schema")


def validate_vendor_response(spec: str, path: str, method: str, status: int, body: Any) -> None:
    """Validates a sandbox answer against the vendor's published spec (OpenAPI 3.0 or Swagger 2.0)."""
    doc = vendor_spec(spec)
    schema = response_schema(doc, path, method, status)
    if schema is None:
        assert body in (None, b"", ""), f"{method} {path} {status} documents no body but one came"
        return
    if doc.get("swagger") == "2.0":
        Draft4Validator({**schema, "definitions": doc["definitions"]}).validate(body)
    else:
        OAS30Validator({**schema, "components": doc.get("components", {})}).validate(body)


def validate_gateway_response(doc: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    schema = response_schema(doc, path, method, status)
    if schema is None:
        return
    Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
