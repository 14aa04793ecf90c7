"""AdaptorService: linkmesh's apps served as Gladly lookup adaptors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from linkmesh.profile.v1 import adaptor_pb2_grpc, profile_pb2

if TYPE_CHECKING:
    from linkmesh_profile.adaptor.served import ServedAdaptor


class AdaptorServicer(adaptor_pb2_grpc.AdaptorServiceServicer):
    def __init__(self, served: ServedAdaptor) -> None:
        self.served = served

    async def ServeAdaptor(
        self, request: profile_pb2.ServeAdaptorRequest, context: grpc.aio.ServicerContext
    ) -> profile_pb2.ServeAdaptorResponse:
        return await self.served.serve(request)
