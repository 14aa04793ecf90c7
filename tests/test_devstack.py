"""The dev stack's plumbing: the embedded database runs without retryable writes (they slow
it down the longer it runs) while every other MongoDB keeps the driver's default, and free
ports are chosen where no outgoing connection can take them first."""

from __future__ import annotations

from pymongo import MongoClient

from linkmesh_devstack.mongo import MongoServer


def test_the_embedded_server_is_used_without_retryable_writes_and_others_with(mongo: MongoServer) -> None:
    client: MongoClient = MongoClient(mongo.uri)
    try:
        if mongo.kind == "SecantusDB":
            assert client.options.retry_writes is False, mongo.uri
        elif mongo.kind != "MONGODB_URI":  # a URI given from outside says what it says
            assert client.options.retry_writes is True, mongo.uri
        client["retry_writes_test"]["x"].insert_one({"ok": True})
        assert client["retry_writes_test"]["x"].count_documents({}) == 1
    finally:
        client.drop_database("retry_writes_test")
        client.close()


def test_free_ports_come_from_below_the_ephemeral_range_and_are_never_handed_out_twice() -> None:
    from linkmesh_devstack.ports import _ephemeral_range, free_port

    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(p < low for p in ports), "outgoing connections cannot take them before a service binds"
