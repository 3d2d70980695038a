"""Assertions and headers shared by the tests that talk HTTP to a node."""

from __future__ import annotations

from typing import Any

import httpx

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
LD_JSON = {"Content-Type": "application/ld+json"}


def link(url: str) -> str:
    """A Link header naming a JSON-LD @context."""
    return f'<{url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'


def assert_problem_details(problem: dict[str, Any], status: int, kind: str) -> None:
    assert problem["type"] == ERRORS + kind
    assert problem["status"] == status
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert isinstance(problem["detail"], str)
    assert problem["detail"]


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """The response is an NGSI-LD error: RFC 7807 problem details of the given type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    problem: dict[str, Any] = response.json()
    assert_problem_details(problem, status, kind)
    return problem


def assert_no_content(response: httpx.Response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""
