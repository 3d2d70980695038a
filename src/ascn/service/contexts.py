"""@context documents (clause 5.13): the core context, contexts the node hosts, and remote ones it
fetched and caches; and the TermMaps derived from them, cached per request @context."""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import anyio.to_thread
import httpx
import orjson
from cachetools import TTLCache

from ascn.errors import (
    BadRequestData,
    InvalidRequest,
    LdContextNotAvailable,
    ResourceNotFound,
)
from ascn.ngsild.context import (
    CORE_CONTEXT_URL,
    TermMap,
    build_term_map,
    core_document,
    is_core,
)
from ascn.ngsild.timestamps import now
from ascn.settings import Settings
from ascn.store import ContextRecord, Store

Kind = Literal["Hosted", "Cached", "ImplicitlyCreated"]
KINDS: tuple[Kind, ...] = ("Hosted", "Cached", "ImplicitlyCreated")
_LOCAL = re.compile(r"/ngsi-ld/v1/jsonldContexts/([^/?#]+)$")
CORE_ID = "ngsi-ld-core-context"


@dataclass(frozen=True, slots=True)
class ContextDocument:
    """One @context the node knows; `url` is None for those it serves itself."""

    local_id: str
    kind: Kind
    created_at: str
    document: Any
    url: str | None = None
    fetched: float = 0.0


class ContextService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._local: dict[str, ContextDocument] = {}
        self._cached: dict[str, ContextDocument] = {}
        self._lock = threading.Lock()
        self._terms: TTLCache[str, TermMap] = TTLCache(
            maxsize=settings.context_cache_size, ttl=settings.context_cache_seconds
        )
        self._client = httpx.Client(
            timeout=settings.context_fetch_timeout, follow_redirects=True, trust_env=False
        )
        self._core = ContextDocument(CORE_ID, "Cached", now(), core_document(), CORE_CONTEXT_URL)

    async def open(self) -> None:
        for record in await self.store.list_contexts():
            kind: Kind = "Hosted" if record.kind == "Hosted" else "ImplicitlyCreated"
            self._local[record.id] = ContextDocument(
                record.id, kind, record.created_at, orjson.loads(record.body)
            )

    async def close(self) -> None:
        self._client.close()

    async def terms(self, local: Any) -> TermMap:
        """The TermMap of a request's @context (None: the core context alone)."""
        key = local if isinstance(local, str) else orjson.dumps(local).decode()
        found = self._terms.get(key)
        if found is None:
            found = await anyio.to_thread.run_sync(build_term_map, local, self._load)
            self._terms[key] = found
        return found

    async def add(self, document: Any, kind: Kind = "Hosted") -> ContextDocument:
        """Host a context document ({"@context": ...}), checked by processing it once."""
        if not isinstance(document, dict) or "@context" not in document:
            raise InvalidRequest("a context document must be a JSON object with an @context member")
        await anyio.to_thread.run_sync(build_term_map, document["@context"], self._load)
        entry = ContextDocument(secrets.token_hex(8), kind, now(), document)
        body = orjson.dumps(document)
        await self.store.put_context(
            ContextRecord(entry.local_id, "", kind, body, entry.created_at)
        )
        self._local[entry.local_id] = entry
        return entry

    def list(self, kind: Kind | None = None) -> list[ContextDocument]:
        with self._lock:
            every = [self._core, *self._cached.values(), *self._local.values()]
        return [entry for entry in every if kind is None or entry.kind == kind]

    def get(self, key: str) -> ContextDocument:
        """A context by local id or by URL."""
        found = self._find(key)
        if found is None:
            raise ResourceNotFound(f"no @context {key!r} is known here")
        return found

    async def delete(self, key: str, reload: bool = False) -> None:
        """Delete a hosted or cached context, or reload (fetch again) a cached one."""
        found = self._find(key)
        if found is None:
            if reload:
                raise BadRequestData(f"no cached @context {key!r} to reload")
            raise ResourceNotFound(f"no @context {key!r} is known here")
        if found is self._core:
            if not reload:
                raise BadRequestData("the core @context cannot be deleted")
            return
        if reload:
            if found.kind != "Cached" or found.url is None:
                raise BadRequestData("only a cached @context can be reloaded")
            document = await anyio.to_thread.run_sync(self._fetch, found.url)
            with self._lock:
                self._cached[found.url] = replace(
                    found, document=document, fetched=time.monotonic()
                )
        elif found.url is not None:
            with self._lock:
                self._cached.pop(found.url, None)
        else:
            await self.store.delete_context(found.local_id)
            self._local.pop(found.local_id, None)
        self._terms.clear()

    def _find(self, key: str) -> ContextDocument | None:
        if is_core(key) or key == CORE_ID:
            return self._core
        if key in self._local:
            return self._local[key]
        with self._lock:
            if key in self._cached:
                return self._cached[key]
            return next((e for e in self._cached.values() if e.local_id == key), None)

    def _load(self, url: str) -> Any:
        """The document loader given to the JSON-LD processor (runs on a worker thread)."""
        local = _LOCAL.search(url)
        if local and local.group(1) in self._local:
            return self._local[local.group(1)].document
        with self._lock:
            entry = self._cached.get(url)
        if entry and time.monotonic() - entry.fetched < self.settings.context_cache_seconds:
            return entry.document
        document = self._fetch(url)
        with self._lock:
            if len(self._cached) >= self.settings.context_cache_size:
                self._cached.pop(next(iter(self._cached)))
            self._cached[url] = ContextDocument(
                entry.local_id if entry else secrets.token_hex(8),
                "Cached",
                entry.created_at if entry else now(),
                document,
                url,
                time.monotonic(),
            )
        return document

    def _fetch(self, url: str) -> Any:
        if not url.startswith(("http://", "https://")):
            raise LdContextNotAvailable(f"the @context {url!r} is not an http(s) URL")
        limit = self.settings.context_max_bytes
        try:
            with self._client.stream(
                "GET", url, headers={"Accept": "application/ld+json, application/json"}
            ) as response:
                if response.status_code >= 400:
                    raise LdContextNotAvailable(
                        f"fetching the @context {url} answered {response.status_code}"
                    )
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise BadRequestData(f"the @context {url} is larger than {limit} bytes")
        except httpx.HTTPError as error:
            raise LdContextNotAvailable(
                f"the @context {url} could not be fetched: {error}"
            ) from None
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadRequestData(f"the @context {url} is not a JSON document") from None
        if not isinstance(document, dict) or "@context" not in document:
            raise BadRequestData(f"the document at {url} holds no @context")
        return document
