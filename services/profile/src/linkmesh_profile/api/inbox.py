"""InboxService: the vendors' change events, as the gateway receives them."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import grpc
from linkmesh.profile.v1 import inbox_pb2, inbox_pb2_grpc

if TYPE_CHECKING:
    from linkmesh_profile.events.receive import Receiver

Context: TypeAlias = grpc.aio.ServicerContext


class InboxServicer(inbox_pb2_grpc.InboxServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def Receive(self, request: inbox_pb2.Delivery, context: Context) -> inbox_pb2.Received:
        return await self.receiver.receive(request)
