"""JSON-LD @context processing for NGSI-LD (clause 5.5.7).

A request's @context (URLs, inline objects, or a list of both) is processed once by PyLD, with the
core context appended last, into a TermMap: the expand and compact functions of that context,
memoised per name. The hot path is then a dictionary lookup per attribute name. Fetching remote
documents is not done here: the caller passes a loader.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import orjson
from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from ascn.errors import AscnError, BadRequestData, LdContextNotAvailable

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_CONTEXT_URLS = frozenset(
    {
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
        *(
            f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{minor}.jsonld"
            for minor in range(0, 10)
        ),
        *(
            f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{minor}.1.jsonld"
            for minor in range(0, 10)
        ),
    }
)
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB = NGSI_LD + "default-context/"

Loader = Callable[[str], Any]
"""Returns the parsed JSON document at a URL, or raises an AscnError."""


@cache
def core_document() -> dict[str, Any]:
    """The core @context document shipped with the package."""
    text = resources.files("ascn.ngsild").joinpath("core-context-v1.8.jsonld").read_bytes()
    document: dict[str, Any] = orjson.loads(text)
    return document


def is_core(url: str) -> bool:
    return url in CORE_CONTEXT_URLS


class TermMap:
    """Expansion and compaction of names, types and vocabulary values under one active context."""

    def __init__(self, active: Any, source: Any) -> None:
        self._active = active
        self._processor = jsonld.JsonLdProcessor()
        self._expanded: dict[str, str] = {}
        self._compacted: dict[str, str] = {}
        self._lock = threading.Lock()
        self.source = source
        """The user @context this map was built from (None for the core context alone)."""

    @property
    def source_url(self) -> str | None:
        """The @context URL this map was built from, if it was built from one URL."""
        return self.source if isinstance(self.source, str) else None

    def expand(self, term: str) -> str:
        """A name or type as an IRI: context term, compact IRI, absolute IRI, or @vocab-relative."""
        found = self._expanded.get(term)
        if found is None:
            with self._lock:
                found = self._processor._expand_iri(self._active, term, vocab=True)
            found = found if isinstance(found, str) else term
            self._expanded[term] = found
        return found

    def compact(self, iri: str) -> str:
        """An IRI as the shortest term or compact IRI the context offers, else unchanged."""
        found = self._compacted.get(iri)
        if found is None:
            with self._lock:
                found = self._processor._compact_iri(self._active, iri, vocab=True)
            found = found if isinstance(found, str) else iri
            self._compacted[iri] = found
        return found


def context_list(local: Any) -> list[Any]:
    """The user context as a list, each entry a URL or an object (a document's @context)."""
    if local is None:
        return []
    items = local if isinstance(local, list) else [local]
    for item in items:
        if not isinstance(item, str | dict):
            raise BadRequestData("an @context entry must be a URL or an object")
    return items


def build_term_map(local: Any, loader: Loader) -> TermMap:
    """Process a user @context (None for none) followed by the core context."""
    items = [item for item in context_list(local) if not (isinstance(item, str) and is_core(item))]

    def load(url: str, options: Any = None) -> dict[str, Any]:
        document = core_document() if is_core(url) else loader(url)
        return {"contextUrl": None, "documentUrl": url, "document": document}

    options = {
        "documentLoader": load,
        "contextResolver": ContextResolver(LRUCache(maxsize=64), load),
        "base": "",
    }
    processor = jsonld.JsonLdProcessor()
    try:
        active = processor.process_context(
            processor._get_initial_context({}), [*items, core_document()["@context"]], options
        )
    except jsonld.JsonLdError as error:
        raise _translate(error) from None
    except RecursionError:
        raise BadRequestData("the @context nests too deeply") from None
    return TermMap(active, local)


def _translate(error: BaseException) -> AscnError:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, AscnError):
            return cause
        cause = cause.__cause__
    code = getattr(error, "code", "") or ""
    if code == "loading remote context failed":
        return LdContextNotAvailable(f"the @context could not be retrieved: {error.args[0]}")
    return BadRequestData(f"invalid @context ({code or 'invalid'}): {error.args[0]}")


@cache
def core_terms() -> TermMap:
    """The TermMap of the core context alone."""

    def refuse(url: str) -> Any:
        raise LdContextNotAvailable(f"no loader for {url}")

    return build_term_map(None, refuse)
