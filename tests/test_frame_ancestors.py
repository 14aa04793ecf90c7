"""GATEWAY_FRAME_ANCESTORS: the origins that may frame the console (a helpdesk's sidebar)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from linkmesh_gateway.config import Settings
from linkmesh_gateway.middleware import content_security_policy


def settings(**env: str) -> Settings:
    return Settings(LINKMESH_TOKENS="agent:agent-token-0123456789abcdef", **env)  # type: ignore[arg-type,call-arg]


def test_never_framed_unless_an_admin_lists_origins() -> None:
    assert "frame-ancestors 'none'" in content_security_policy(None, settings().frame_origins)
    listed = settings(frame_ancestors="https://support.example.com, https://APP.chatwoot.com:8443 http://localhost:3000")
    assert listed.frame_origins == ["https://support.example.com", "https://app.chatwoot.com:8443", "http://localhost:3000"]
    policy = content_security_policy(None, listed.frame_origins)
    assert "frame-ancestors https://support.example.com https://app.chatwoot.com:8443 http://localhost:3000;" in policy
    assert "script-src" not in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


@pytest.mark.parametrize(
    "bad",
    ["*", "https://*.example.com", "http://support.example.com", "https://example.com/app", "support.example.com", "javascript:alert(1)"],
)
def test_anything_but_an_origin_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(ValidationError, match="GATEWAY_FRAME_ANCESTORS"):
        settings(frame_ancestors=bad)
