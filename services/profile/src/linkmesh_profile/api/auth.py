"""AuthService: the gateway's questions about credentials."""

from __future__ import annotations

import grpc
from linkmesh.profile.v1 import auth_pb2_grpc, profile_pb2

from linkmesh_profile.admin.api_keys import ApiKeys, key_to_proto


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, api_keys: ApiKeys) -> None:
        self.api_keys = api_keys

    async def AuthenticateApiKey(
        self, request: profile_pb2.AuthenticateApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> profile_pb2.ApiKey:
        return key_to_proto(await self.api_keys.authenticate(request.secret))
