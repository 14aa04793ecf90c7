"""App secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

``LINKMESH_SECRET_KEYS`` holds one or more keys, comma-separated; the first
encrypts, all decrypt, so keys can be rotated without downtime.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(ValueError):
    pass


class SecretBox:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise SecretKeyError("LINKMESH_SECRET_KEYS: give at least one Fernet key")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except (ValueError, TypeError):
            raise SecretKeyError(
                "LINKMESH_SECRET_KEYS: each key must be 32 url-safe base64-encoded bytes (Fernet.generate_key())"
            ) from None

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError("a stored secret cannot be decrypted with the configured keys") from None

    def encrypt_all(self, values: dict[str, str]) -> dict[str, str]:
        return {k: self.encrypt(v) for k, v in values.items()}

    def decrypt_all(self, tokens: dict[str, str]) -> dict[str, str]:
        return {k: self.decrypt(v) for k, v in tokens.items()}
