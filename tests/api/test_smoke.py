import httpx


def test_create_then_retrieve(client: httpx.Client) -> None:
    entity = {"id": "urn:ngsi-ld:T:1", "type": "T", "n": {"type": "Property", "value": 1}}
    created = client.post("/entities", json=entity)
    assert created.status_code == 201
    assert created.headers["location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:T:1"
    got = client.get("/entities/urn:ngsi-ld:T:1")
    assert got.status_code == 200
    assert got.json() == entity
