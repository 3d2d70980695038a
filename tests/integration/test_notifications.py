"""Notifications across a restart of `ascn serve` (real processes, on each store): what the outbox
held when the node stopped is delivered by the next node on the same store, in order, once."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.api.test_subscriptions import Receiver, eventually, prop, room, status_of, subscribe
from tests.integration.test_lifecycle import API, serve

QUICK = ("--notification-first-retry", "0.2", "--notification-max-retry", "0.5")
ROOM_1 = "urn:ngsi-ld:Room:1"


def test_undelivered_notifications_are_delivered_after_a_restart(
    tmp_path: Path, store_url: str
) -> None:
    receiver = Receiver()  # not started yet: the node's connections are refused
    flags = ("--store", store_url, *QUICK)
    try:
        with serve(tmp_path, *flags) as (process, url):
            with httpx.Client(base_url=url + API, timeout=10) as http:
                sid = subscribe(
                    http,
                    receiver.url(),
                    notificationTrigger=["entityCreated", "attributeUpdated"],
                    notification={"format": "keyValues"},
                )
                response = http.post("/entities", json=room(1, n=prop(0)))
                assert response.status_code == 201, response.text
                for n in (1, 2, 3):
                    response = http.patch(f"/entities/{ROOM_1}/attrs", json={"n": prop(n)})
                    assert response.status_code == 204, response.text
                eventually(lambda: status_of(http, sid).get("status") == "failed", "a failure")
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
            assert process.returncode in (0, -signal.SIGTERM)
        assert receiver.at() == []

        receiver.start()
        with serve(tmp_path, *flags) as (_, url):
            values = [n.entity["n"] for n in receiver.exactly(4)]
            assert sorted(values) == [0, 1, 2, 3], "every notification, once"
            assert values == [0, 1, 2, 3], "in the order of the writes"
            assert {n.body["subscriptionId"] for n in receiver.at()} == {sid}
            with httpx.Client(base_url=url + API, timeout=10) as http:
                eventually(lambda: status_of(http, sid).get("status") == "ok", "a success")
                done = http.patch(f"/entities/{ROOM_1}/attrs", json={"n": prop(4)})
                assert done.status_code == 204, done.text
                assert receiver.wait(5)[-1].entity["n"] == 4
    finally:
        receiver.stop()
