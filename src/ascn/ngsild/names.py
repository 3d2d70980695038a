"""Names the standard reserves, and the rules for entity ids, attribute names and types."""

from __future__ import annotations

import re

from ascn.errors import BadRequestData

PROPERTY = "Property"
RELATIONSHIP = "Relationship"
GEOPROPERTY = "GeoProperty"
LANGUAGEPROPERTY = "LanguageProperty"
VOCABPROPERTY = "VocabProperty"
JSONPROPERTY = "JsonProperty"
LISTPROPERTY = "ListProperty"
LISTRELATIONSHIP = "ListRelationship"

VALUE_KEY = {
    PROPERTY: "value",
    RELATIONSHIP: "object",
    GEOPROPERTY: "value",
    LANGUAGEPROPERTY: "languageMap",
    VOCABPROPERTY: "vocab",
    JSONPROPERTY: "json",
    LISTPROPERTY: "valueList",
    LISTRELATIONSHIP: "objectList",
}
"""Each attribute type and the member that carries its value."""

ATTRIBUTE_TYPES = frozenset(VALUE_KEY)
VALUE_KEYS = frozenset(VALUE_KEY.values())
TYPE_OF_VALUE_KEY = {
    "object": RELATIONSHIP,
    "languageMap": LANGUAGEPROPERTY,
    "vocab": VOCABPROPERTY,
    "json": JSONPROPERTY,
    "valueList": LISTPROPERTY,
    "objectList": LISTRELATIONSHIP,
    "value": PROPERTY,
}

SYSTEM_TIMES = frozenset({"createdAt", "modifiedAt", "deletedAt"})
ATTRIBUTE_MEMBERS = frozenset(
    {
        "type",
        *VALUE_KEYS,
        "observedAt",
        "unitCode",
        "datasetId",
        "objectType",
        "lang",
        "instanceId",
        "previousValue",
        "previousObject",
        "previousLanguageMap",
        "previousVocab",
        "previousJson",
        "previousValueList",
        "previousObjectList",
        *SYSTEM_TIMES,
    }
)
"""Members of an attribute object that are not sub-attributes."""

ENTITY_MEMBERS = frozenset({"id", "type", "scope", "@context", *SYSTEM_TIMES})
"""Members of an entity object that are not attributes."""

RESERVED_ATTRIBUTE_NAMES = frozenset({"id", "type", "scope", "@id", "@type", "@context"})
"""Names that cannot be given to an attribute (the members of an entity that are not attributes).
Inside an attribute, its own members (value, object, observedAt...) are never sub-attributes."""

NULL = "urn:ngsi-ld:null"
"""The value that deletes in a merge-patch (clause 4.5.0)."""

_FORBIDDEN = re.compile(r"[\s<>\"'=;()\\]")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
MAX_NAME = 512
MAX_URI = 1024


def check_uri(value: object, what: str) -> str:
    """An absolute URI (RFC 3986 scheme, no forbidden characters), else BadRequestData."""
    if not isinstance(value, str) or len(value) > MAX_URI or not _URI.fullmatch(value):
        raise BadRequestData(f"{what} must be a URI, not {_show(value)}")
    return value


def check_name(value: object, what: str) -> str:
    """An attribute name or type as written by a client (a term or an IRI)."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_NAME
        or value.startswith("@")
        or _FORBIDDEN.search(value)
    ):
        raise BadRequestData(f"{what} {_show(value)} is not a valid name")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
