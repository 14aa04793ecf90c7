"""The profile service's gRPC API: one servicer per audience (``linkmesh.profile.v1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from linkmesh.profile.v1 import (
    adaptor_pb2,
    adaptor_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    customers_pb2,
    customers_pb2_grpc,
    inbox_pb2,
    inbox_pb2_grpc,
    privacy_pb2,
    privacy_pb2_grpc,
)

from linkmesh_profile.api.adaptor import AdaptorServicer
from linkmesh_profile.api.admin import AdminServicer
from linkmesh_profile.api.auth import AuthServicer
from linkmesh_profile.api.customers import CustomerServicer
from linkmesh_profile.api.inbox import InboxServicer
from linkmesh_profile.api.privacy import PrivacyServicer

if TYPE_CHECKING:
    from linkmesh_profile.assembly import Parts

SERVICES = tuple(
    f.DESCRIPTOR.services_by_name[name].full_name
    for f, name in (
        (customers_pb2, "CustomerService"),
        (admin_pb2, "AdminService"),
        (auth_pb2, "AuthService"),
        (adaptor_pb2, "AdaptorService"),
        (inbox_pb2, "InboxService"),
        (privacy_pb2, "PrivacyService"),
    )
)


def add_servicers(server: grpc.aio.Server, parts: Parts) -> tuple[str, ...]:
    """Every service of the profile API on ``server``; answers their full names (for health and reflection)."""
    customers_pb2_grpc.add_CustomerServiceServicer_to_server(CustomerServicer(parts), server)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(parts), server)
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(parts.api_keys), server)
    adaptor_pb2_grpc.add_AdaptorServiceServicer_to_server(AdaptorServicer(parts.served, parts.served_actions, parts.audit), server)
    inbox_pb2_grpc.add_InboxServiceServicer_to_server(InboxServicer(parts.receiver), server)
    privacy_pb2_grpc.add_PrivacyServiceServicer_to_server(PrivacyServicer(parts.people, parts.audit), server)
    return SERVICES
