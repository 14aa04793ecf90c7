"""Benchmark: opening the profile of a customer with a lot of data, within the freshness window.

Starts the whole stack, makes one customer linked to the three demo commerce apps, each link
holding ``--orders`` orders (three lines and a shipment each, as a refresh stores them), then
opens the profile ``--opens`` times through the gateway, one after another, then finds it by its
email as many times (``GET /api/v1/customers?email=``, as a helpdesk integration does), and
prints the wall time (p50, p99) and the CPU milliseconds of each process per read: the profile
service reads the document and writes it as the API's JSON (``GetCustomerJson``,
``FindCustomersJson``: every link's data completed in one pass, ``linkmesh_core.stored_json``),
the gateway passes it through. The same reads of a customer without linked data are printed
beside them (the baseline, same run), so the figures read as what the data adds.

    .venv/bin/python bench/big_profile.py [--orders 50] [--opens 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
from bson import ObjectId
from linkmesh.lookup.v1 import lookup_pb2

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import cpu_seconds, percentile

from linkmesh_core.proto_dict import message_dict
from linkmesh_devstack.stack import Stack


def linked_data(external_id: str, orders: int) -> dict[str, Any]:
    """A DETAILED customer of ``orders`` orders, as a refresh keeps it in the link."""
    customer = lookup_pb2.Customer(external_id=external_id, name="Jane Smith", emails=["jane.smith@example.com"])
    customer.phones.add(number="+15551234567", type="mobile")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(orders):
        order = customer.orders.add(id=str(5000 + n), number=str(10000 + n), status="Shipped", fulfilled=True)
        order.total.amount, order.total.currency = f"{100 + n}.50", "USD"
        order.created_at.FromDatetime(start + timedelta(days=n, minutes=n))
        for i in range(3):
            line = order.lines.add(id=f"{n}-{i}", name=f"Trail product {i}", sku=f"SKU-{i:03d}", quantity=1 + i)
            line.unit_price.amount, line.unit_price.currency = f"{20 + i}.00", "USD"
            line.product_url = f"https://store.example.com/products/{i}"
        shipment = order.shipments.add(id=f"s{n}", carrier="UPS", tracking_number=f"1Z{n:08d}", method="Ground")
        shipment.tracking_url = f"https://www.ups.com/track?tracknum=1Z{n:08d}"
        shipment.shipped_at.FromDatetime(start + timedelta(days=n + 1))
    return message_dict(customer)


def make_customer(stack: Stack, email: str, apps: list[dict[str, Any]], orders: int) -> str:
    status, customer = stack.api("POST", "/api/v1/customers", role="agent", body={"emails": [email]})
    assert status == 201, customer
    if apps:
        at = datetime.now(UTC)
        links = {
            f"links.{app['id']}": {
                "external_customer_id": str(100 + i),
                "app_type": app["type"],
                "linked_at": at,
                "refreshed_at": at,
                "stale": None,
                "data": linked_data(str(100 + i), orders),
            }
            for i, app in enumerate(apps)
        }
        assert stack.mongo is not None
        client: pymongo.MongoClient[dict[str, Any]]
        with pymongo.MongoClient(stack.mongo.uri) as client:
            client["linkmesh"]["customers"].update_one(
                {"_id": ObjectId(customer["id"])},
                {"$set": {**links, "link_keys": [f"{app['id']}:{100 + i}" for i, app in enumerate(apps)]}},
            )
    return str(customer["id"])


def reads(stack: Stack, path: str, count: int) -> tuple[list[float], dict[str, float]]:
    """Wall seconds of each read of ``path`` (one customer: an open, or a find by email), and
    each process's CPU milliseconds per read."""
    pids = {name: stack.services[name].process.pid for name in ("profile", "gateway")}  # type: ignore[union-attr]
    assert stack.mongo is not None and stack.mongo.process is not None, "the embedded server (a process to measure)"
    pids["database"] = stack.mongo.process.pid
    for _ in range(5):  # warm
        stack.api("GET", path, role="agent")
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    walls = []
    for _ in range(count):
        started = time.perf_counter()
        status, body = stack.api("GET", path, role="agent")
        walls.append(time.perf_counter() - started)
        customers = body.get("customers", [body]) if status == 200 else []
        assert len(customers) == 1 and all(not link["stale"] for link in customers[0]["links"]), body
    used = {name: (cpu_seconds(pid) - before[name]) * 1000 / count for name, pid in pids.items()}
    return walls, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--opens", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(base_dir=Path(tmp), extra_env={"PROFILE_FRESHNESS_S": "3600", "PROFILE_EVENTS_FRESHNESS_S": "3600"})
        stack.start()
        try:
            apps = [a for a in stack.ensure_demo_apps() if a["type"] in ("bigcommerce", "magento", "returnlogic")]
            rows = {
                "no linked data (baseline)": ("big-profile-baseline@example.com", []),
                f"3 links of {args.orders} orders": ("big-profile@example.com", apps),
            }
            ids = {name: make_customer(stack, email, linked, args.orders if linked else 0) for name, (email, linked) in rows.items()}
            for what, path in (("open", "/api/v1/customers/{id}"), ("find by email", "/api/v1/customers?email={email}")):
                print(f"profile reads ({what}) within the freshness window, {args.opens} one after another; CPU ms per read")
                for name, (email, _) in rows.items():
                    walls, used = reads(stack, path.format(id=ids[name], email=email), args.opens)
                    cpu = "  ".join(f"{k} {v:6.2f}" for k, v in used.items())
                    print(f"  {name:<28} p50 {percentile(walls, 50) * 1000:6.1f} ms  p99 {percentile(walls, 99) * 1000:6.1f} ms   {cpu}")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
