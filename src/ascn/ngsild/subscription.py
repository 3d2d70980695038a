"""Subscriptions (clause 5.2.12, 5.8): a client's payload checked and kept with expanded names,
and shown back compacted with the reader's @context.

Stored form: the members as the client sent them, with entity types, watchedAttributes and
notification.attributes expanded to IRIs, q percent-decoded, plus "createdAt" and "modifiedAt".
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

from ascn.errors import BadRequestData
from ascn.ngsild import names
from ascn.ngsild.context import TermMap
from ascn.ngsild.geoquery import geo_query
from ascn.ngsild.history import millis
from ascn.ngsild.qlang import expand, parse_q, parse_scope_q, parse_types
from ascn.ngsild.query import check_id_pattern
from ascn.ngsild.timestamps import check_time

Subscription = dict[str, Any]
TRIGGERS = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")
FORMATS = ("normalized", "concise", "keyValues", "simplified")
ACCEPTS = ("application/json", "application/ld+json", "application/geo+json")
SCHEMES = ("http", "https", "mqtt", "mqtts")
MEMBERS = frozenset(
    {
        "id",
        "type",
        "subscriptionName",
        "description",
        "entities",
        "watchedAttributes",
        "notificationTrigger",
        "timeInterval",
        "q",
        "geoQ",
        "scopeQ",
        "csf",
        "isActive",
        "notification",
        "expiresAt",
        "throttling",
        "lang",
        "datasetId",
        "jsonldContext",
        "@context",
    }
)
NOTIFICATION_MEMBERS = frozenset(
    {
        "attributes",
        "format",
        "sysAttrs",
        "showChanges",
        "endpoint",
        "pick",
        "omit",
        "join",
        "joinLevel",
    }
)
ENDPOINT_MEMBERS = frozenset({"uri", "accept", "receiverInfo", "notifierInfo", "timeout"})
SYSTEM = ("createdAt", "modifiedAt")


def new_id() -> str:
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


def parse(raw: Any, terms: TermMap, moment: str) -> Subscription:
    """A new subscription, checked, in stored form."""
    if not isinstance(raw, dict):
        raise BadRequestData("a subscription must be a JSON object")
    if raw.get("type") != "Subscription":
        raise BadRequestData('a subscription needs "type": "Subscription"')
    stored = _members(raw, terms, moment)
    stored["id"] = names.check_uri(raw["id"], "subscription id") if "id" in raw else new_id()
    if "notification" not in stored:
        raise BadRequestData("a subscription needs a notification with an endpoint")
    if "entities" not in stored and "watchedAttributes" not in stored:
        raise BadRequestData("a subscription needs entities or watchedAttributes")
    _check_whole(stored)
    stored["createdAt"] = stored["modifiedAt"] = moment
    return stored


def update(stored: Subscription, raw: Any, terms: TermMap, moment: str) -> Subscription:
    """The subscription with the members of a PATCH fragment replacing its own (clause
    5.8.2): each member replaced whole, notification included."""
    if not isinstance(raw, dict) or not raw:
        raise BadRequestData("a subscription update must be a non-empty JSON object")
    if "type" in raw and raw["type"] != "Subscription":
        raise BadRequestData('the type of a subscription is "Subscription"')
    if "id" in raw and raw["id"] != stored["id"]:
        raise BadRequestData("the id of a subscription cannot change")
    changes = _members({k: v for k, v in raw.items() if k not in ("id", "type")}, terms, moment)
    updated = {**copy.deepcopy(stored), **changes, "modifiedAt": moment}
    _check_whole(updated)
    return updated


def _members(raw: dict[str, Any], terms: TermMap, moment: str) -> Subscription:
    unknown = set(raw) - MEMBERS
    if unknown:
        raise BadRequestData(f"unknown subscription member(s): {', '.join(sorted(unknown))}")
    out: Subscription = {"type": "Subscription"}
    for key, value in raw.items():
        if key in ("id", "type", "@context"):
            continue
        if value is None:
            raise BadRequestData(f"{key} cannot be null")
        out[key] = _member(key, value, terms, moment)
    return out


def _member(key: str, value: Any, terms: TermMap, moment: str) -> Any:
    if key == "entities":
        if not isinstance(value, list) or not value:
            raise BadRequestData("entities must be a non-empty array of entity selectors")
        return [_selector(item, terms) for item in value]
    if key == "watchedAttributes":
        return [terms.expand(name) for name in _names(value, "watchedAttributes")]
    if key == "notificationTrigger":
        triggers = _strings(value, "notificationTrigger")
        wrong = [t for t in triggers if t not in TRIGGERS]
        if wrong or not triggers:
            raise BadRequestData(f"notificationTrigger takes {', '.join(TRIGGERS)}")
        return triggers
    if key in ("timeInterval", "throttling"):
        if type(value) not in (int, float) or value <= 0:
            raise BadRequestData(f"{key} must be a positive number of seconds")
        return value
    if key == "q":
        text = unquote(_string(value, "q"))
        parse_q(text)
        return text
    if key == "scopeQ":
        parse_scope_q(_string(value, "scopeQ"))
        return value
    if key == "geoQ":
        if not isinstance(value, dict):
            raise BadRequestData("geoQ must be an object")
        geo_query(
            value.get("georel", ""),
            value.get("geometry"),
            value.get("coordinates"),
            terms.expand(value.get("geoproperty") or "location"),
        )
        return value
    if key == "isActive":
        if not isinstance(value, bool):
            raise BadRequestData("isActive must be true or false")
        return value
    if key == "expiresAt":
        check_time(value, "expiresAt")
        if (millis(value) or 0) <= (millis(moment) or 0):
            raise BadRequestData("expiresAt must be in the future")
        return value
    if key == "jsonldContext":
        return names.check_uri(value, "jsonldContext")
    if key == "datasetId":
        return [names.check_uri(d, "datasetId") for d in _strings(value, "datasetId")]
    if key == "notification":
        return _notification(value, terms)
    return _string(value, key) if key in ("subscriptionName", "description", "lang") else value


def _selector(item: Any, terms: TermMap) -> dict[str, str]:
    if not isinstance(item, dict) or "type" not in item:
        raise BadRequestData("each entity selector needs a type")
    selector = {"type": str(expand(parse_types(_string(item["type"], "type")), terms.expand))}
    if "id" in item:
        selector["id"] = names.check_uri(item["id"], "entity id")
    if "idPattern" in item:
        selector["idPattern"] = check_id_pattern(_string(item["idPattern"], "idPattern"))
    return selector


def _notification(value: Any, terms: TermMap) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("notification must be an object")
    unknown = set(value) - NOTIFICATION_MEMBERS
    if unknown:
        raise BadRequestData(f"unknown notification member(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for key, member in value.items():
        if member is None:
            raise BadRequestData(f"notification.{key} cannot be null")
        if key == "attributes":
            out[key] = [terms.expand(n) for n in _names(member, "notification.attributes")]
        elif key == "format":
            if member not in FORMATS:
                raise BadRequestData(f"notification.format takes {', '.join(FORMATS)}")
            out[key] = member
        elif key in ("sysAttrs", "showChanges"):
            if not isinstance(member, bool):
                raise BadRequestData(f"notification.{key} must be true or false")
            out[key] = member
        elif key in ("pick", "omit"):
            out[key] = _strings(member, f"notification.{key}")
        elif key in ("join", "joinLevel"):
            raise BadRequestData(
                f"notification.{key}: linked entities in notifications are not supported"
            )
        else:
            out[key] = _endpoint(member)
    if "endpoint" not in out:
        raise BadRequestData("notification needs an endpoint")
    if "pick" in out and "omit" in out and set(out["pick"]) & set(out["omit"]):
        raise BadRequestData("notification.pick and notification.omit name the same member")
    if "attributes" in out and ("pick" in out or "omit" in out):
        raise BadRequestData("notification.attributes cannot go with pick or omit")
    return out


def _endpoint(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("notification.endpoint must be an object")
    unknown = set(value) - ENDPOINT_MEMBERS
    if unknown:
        raise BadRequestData(f"unknown endpoint member(s): {', '.join(sorted(unknown))}")
    uri = names.check_uri(value.get("uri"), "notification.endpoint.uri")
    if urlsplit(uri).scheme not in SCHEMES:
        raise BadRequestData(f"notification.endpoint.uri must use {', '.join(SCHEMES)}")
    out: dict[str, Any] = {"uri": uri}
    if "accept" in value:
        if value["accept"] not in ACCEPTS:
            raise BadRequestData(f"notification.endpoint.accept takes {', '.join(ACCEPTS)}")
        out["accept"] = value["accept"]
    for key in ("receiverInfo", "notifierInfo"):
        if key in value:
            out[key] = _key_values(value[key], key)
    if "timeout" in value:
        out["timeout"] = value["timeout"]
    return out


def _key_values(value: Any, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not all(
        isinstance(item, dict)
        and set(item) == {"key", "value"}
        and all(isinstance(v, str) for v in item.values())
        for item in value
    ):
        raise BadRequestData(f"{what} must be an array of {{key, value}} string pairs")
    for item in value:
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", item["key"]):
            raise BadRequestData(f"{what} key {item['key']!r} is not a header name")
    return [dict(item) for item in value]


def _check_whole(stored: Subscription) -> None:
    if "timeInterval" in stored and "throttling" in stored:
        raise BadRequestData("timeInterval and throttling cannot go together")
    if "timeInterval" in stored and "watchedAttributes" in stored:
        raise BadRequestData("timeInterval and watchedAttributes cannot go together")


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"{what} must be a non-empty string")
    return value


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadRequestData(f"{what} must be an array of strings")
    return list(dict.fromkeys(value))


def _names(value: Any, what: str) -> list[str]:
    return [names.check_name(name, what) for name in _strings(value, what)]


def status(stored: Subscription, now_ms: int) -> str:
    """expired once expiresAt has passed, else paused when isActive is false, else active."""
    expires = stored.get("expiresAt")
    if expires is not None and (millis(expires) or 0) <= now_ms:
        return "expired"
    return "paused" if stored.get("isActive") is False else "active"


def render(
    stored: Subscription, terms: TermMap, now_ms: int, sys_attrs: bool = False
) -> dict[str, Any]:
    """A subscription as a reader sees it: names compacted with the reader's @context, its
    status and default trigger added, system times only with sysAttrs."""
    out: dict[str, Any] = {}
    for key, value in stored.items():
        if key in SYSTEM or key.startswith("_"):
            continue
        if key == "entities":
            out[key] = [
                {**s, "type": str(expand(parse_types(s["type"]), terms.compact))} for s in value
            ]
        elif key == "watchedAttributes":
            out[key] = [terms.compact(iri) for iri in value]
        elif key == "notification":
            notification = dict(value)
            if "attributes" in notification:
                notification["attributes"] = [terms.compact(i) for i in notification["attributes"]]
            out[key] = notification
        else:
            out[key] = value
    out.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    out["status"] = status(stored, now_ms)
    if sys_attrs:
        out["createdAt"] = stored["createdAt"]
        out["modifiedAt"] = stored["modifiedAt"]
    return out
