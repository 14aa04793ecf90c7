"""The embedded database runs without retryable writes (they slow it down the longer it
runs); every other MongoDB keeps the driver's default."""

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
