"""ascn.ngsild.context: term maps built from the core context and from user @contexts."""

from __future__ import annotations

from typing import Any

import pytest

from ascn.errors import BadRequestData, LdContextNotAvailable
from ascn.ngsild.context import (
    CORE_CONTEXT_URL,
    DEFAULT_VOCAB,
    NGSI_LD,
    build_term_map,
    context_list,
    core_document,
    core_terms,
    is_core,
)

CORE_URLS = [
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    *(
        f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{minor}.jsonld"
        for minor in range(9)
    ),
]
NON_EXISTING = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-non-existing.jsonld"


def no_loader(url: str) -> Any:
    pytest.fail(f"the loader was called for {url}")


def loader_of(documents: dict[str, Any], calls: list[str] | None = None) -> Any:
    def load(url: str) -> Any:
        if calls is not None:
            calls.append(url)
        if url not in documents:
            raise LdContextNotAvailable(f"unknown {url}")
        return documents[url]

    return load


# core context ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("Property", NGSI_LD + "Property"),
        ("Relationship", NGSI_LD + "Relationship"),
        ("GeoProperty", NGSI_LD + "GeoProperty"),
        ("location", NGSI_LD + "location"),
        ("observationSpace", NGSI_LD + "observationSpace"),
        ("operationSpace", NGSI_LD + "operationSpace"),
    ],
)
def test_core_terms_expand_and_compact_core_terms(term: str, iri: str) -> None:
    terms = core_terms()
    assert terms.expand(term) == iri
    assert terms.compact(iri) == term


def test_core_terms_expand_unknown_terms_with_the_default_vocab() -> None:
    terms = core_terms()
    assert terms.expand("temperature") == DEFAULT_VOCAB + "temperature"
    assert terms.compact(DEFAULT_VOCAB + "temperature") == "temperature"
    assert DEFAULT_VOCAB == "https://uri.etsi.org/ngsi-ld/default-context/"


def test_core_terms_keep_absolute_and_compact_iris() -> None:
    terms = core_terms()
    for iri in ("https://a.b/c", "urn:ngsi-ld:X:1", "ex:term", "http://example.org/x#y"):
        assert terms.expand(iri) == iri
        assert terms.compact(iri) == iri


def test_core_terms_expand_the_ngsi_ld_prefix() -> None:
    terms = core_terms()
    assert terms.expand("ngsi-ld:whatever") == NGSI_LD + "whatever"
    assert terms.compact(NGSI_LD + "whatever") == "ngsi-ld:whatever"


def test_core_terms_map_id_and_type_to_keywords() -> None:
    terms = core_terms()
    assert terms.expand("id") == "@id"
    assert terms.expand("type") == "@type"


def test_core_terms_is_cached_and_has_no_source() -> None:
    assert core_terms() is core_terms()
    assert core_terms().source is None
    assert core_terms().source_url is None


def test_core_document_is_the_v18_core_context() -> None:
    context = core_document()["@context"]
    assert context["ngsi-ld"] == NGSI_LD
    assert context["@vocab"] == DEFAULT_VOCAB
    assert CORE_CONTEXT_URL.endswith("ngsi-ld-core-context-v1.8.jsonld")


# recognition of the core context URLs ------------------------------------------------------------


@pytest.mark.parametrize("url", CORE_URLS)
def test_core_context_urls_are_recognised_without_the_loader(url: str) -> None:
    assert is_core(url)
    terms = build_term_map(url, no_loader)
    assert terms.expand("Property") == NGSI_LD + "Property"
    assert terms.expand("foo") == DEFAULT_VOCAB + "foo"
    assert terms.source_url == url


def test_core_context_urls_in_a_list_are_recognised_without_the_loader() -> None:
    terms = build_term_map([*CORE_URLS, {"foo": "https://example.org/foo"}], no_loader)
    assert terms.expand("foo") == "https://example.org/foo"


def test_a_non_existing_core_like_url_goes_to_the_loader() -> None:
    assert not is_core(NON_EXISTING)
    calls: list[str] = []
    with pytest.raises(LdContextNotAvailable):
        build_term_map(NON_EXISTING, loader_of({}, calls))
    assert calls == [NON_EXISTING]


def test_a_non_existing_core_like_url_inside_a_list_goes_to_the_loader() -> None:
    calls: list[str] = []
    with pytest.raises(LdContextNotAvailable):
        build_term_map([NON_EXISTING], loader_of({}, calls))
    assert calls == [NON_EXISTING]


# user contexts -----------------------------------------------------------------------------------


def test_inline_user_context() -> None:
    terms = build_term_map(
        {"speed": "https://example.org/speed", "Car": "https://example.org/Car"}, no_loader
    )
    assert terms.expand("speed") == "https://example.org/speed"
    assert terms.expand("Car") == "https://example.org/Car"
    assert terms.compact("https://example.org/speed") == "speed"
    assert terms.compact("https://example.org/Car") == "Car"
    # terms it does not define still fall to the core context and its @vocab
    assert terms.expand("location") == NGSI_LD + "location"
    assert terms.expand("other") == DEFAULT_VOCAB + "other"
    assert terms.source_url is None


def test_inline_user_context_with_a_prefix() -> None:
    terms = build_term_map({"ex": "https://example.org/"}, no_loader)
    assert terms.expand("ex:thing") == "https://example.org/thing"
    assert terms.compact("https://example.org/thing") == "ex:thing"


def test_user_context_cannot_redefine_core_terms() -> None:
    terms = build_term_map({"location": "https://example.org/location"}, no_loader)
    assert terms.expand("location") == NGSI_LD + "location"


def test_user_context_through_the_loader() -> None:
    url = "https://example.org/context.jsonld"
    calls: list[str] = []
    document = {"@context": {"speed": "https://example.org/speed"}}
    terms = build_term_map(url, loader_of({url: document}, calls))
    assert terms.expand("speed") == "https://example.org/speed"
    assert terms.compact("https://example.org/speed") == "speed"
    assert calls == [url]
    assert terms.source_url == url
    assert terms.source == url


def test_nested_contexts_through_the_loader() -> None:
    outer = "https://example.org/outer.jsonld"
    inner = "https://example.org/inner.jsonld"
    documents = {
        outer: {"@context": [inner, {"brandName": "https://example.org/brandName"}, CORE_URLS[0]]},
        inner: {"@context": {"speed": "https://example.org/inner#speed"}},
    }
    calls: list[str] = []
    terms = build_term_map([outer], loader_of(documents, calls))
    assert terms.expand("speed") == "https://example.org/inner#speed"
    assert terms.expand("brandName") == "https://example.org/brandName"
    assert terms.compact("https://example.org/inner#speed") == "speed"
    assert set(calls) == {outer, inner}
    assert terms.source == [outer]
    assert terms.source_url is None


def test_a_mixed_list_of_url_and_inline_context() -> None:
    url = "https://example.org/a.jsonld"
    documents = {url: {"@context": {"a": "https://example.org/a"}}}
    terms = build_term_map([url, {"b": "https://example.org/b"}], loader_of(documents))
    assert terms.expand("a") == "https://example.org/a"
    assert terms.expand("b") == "https://example.org/b"


def test_term_clash_compacts_the_default_vocab_iri_to_a_compact_iri() -> None:
    terms = build_term_map({"almostFull": "https://example.org/almostFull"}, no_loader)
    assert terms.expand("almostFull") == "https://example.org/almostFull"
    assert terms.compact("https://example.org/almostFull") == "almostFull"
    assert terms.compact(DEFAULT_VOCAB + "almostFull") == "ngsi-ld:default-context/almostFull"
    # and without the user context the same IRI is the bare term
    assert core_terms().compact(DEFAULT_VOCAB + "almostFull") == "almostFull"


def test_term_maps_memoise_consistently() -> None:
    terms = build_term_map({"a": "https://example.org/a"}, no_loader)
    assert terms.expand("a") == terms.expand("a") == "https://example.org/a"
    assert terms.compact("https://example.org/a") == terms.compact("https://example.org/a") == "a"


# errors ------------------------------------------------------------------------------------------


def test_a_loader_raising_ld_context_not_available_gives_ld_context_not_available() -> None:
    def load(url: str) -> Any:
        raise LdContextNotAvailable(f"cannot fetch {url}")

    with pytest.raises(LdContextNotAvailable) as caught:
        build_term_map("https://example.org/missing.jsonld", load)
    assert "https://example.org/missing.jsonld" in caught.value.detail
    assert caught.value.status == 504


def test_a_nested_url_that_cannot_be_loaded_gives_ld_context_not_available() -> None:
    outer = "https://example.org/outer.jsonld"
    documents = {outer: {"@context": ["https://example.org/gone.jsonld"]}}
    with pytest.raises(LdContextNotAvailable):
        build_term_map(outer, loader_of(documents))


def test_a_loader_raising_bad_request_data_keeps_it() -> None:
    def load(url: str) -> Any:
        raise BadRequestData("not a JSON-LD document")

    with pytest.raises(BadRequestData) as caught:
        build_term_map("https://example.org/x.jsonld", load)
    assert caught.value.detail == "not a JSON-LD document"


@pytest.mark.parametrize(
    "context",
    [
        {"@context": 5},
        {"speed": 5},
        {"speed": {"@id": 5}},
        {"speed": True},
        5,
        [5],
        [None],
        [["https://example.org/nested-list.jsonld"]],
    ],
)
def test_invalid_contexts_give_bad_request_data(context: Any) -> None:
    with pytest.raises(BadRequestData):
        build_term_map(context, no_loader)


def test_a_remote_document_that_is_not_an_object_gives_bad_request_data() -> None:
    url = "https://example.org/five.jsonld"
    with pytest.raises(BadRequestData):
        build_term_map(url, loader_of({url: 5}))


def test_context_list() -> None:
    assert context_list(None) == []
    assert context_list("https://example.org/c") == ["https://example.org/c"]
    assert context_list({"a": "b"}) == [{"a": "b"}]
    assert context_list(["https://example.org/c", {"a": "b"}]) == [
        "https://example.org/c",
        {"a": "b"},
    ]
    with pytest.raises(BadRequestData):
        context_list([1])
