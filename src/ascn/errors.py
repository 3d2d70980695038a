"""The NGSI-LD error family (clause 5.5.2, RFC 7807).

Each class knows its problem type URI, title and HTTP status; one handler in api/ renders any of
them as application/problem+json, so no route ever picks a status of its own."""

from __future__ import annotations

from typing import Any, ClassVar

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


class AscnError(Exception):
    """Base of every error the node reports to a client."""

    type_uri: ClassVar[str] = ERRORS + "InternalError"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        """The RFC 7807 problem details of this error."""
        return {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


class InternalError(AscnError):
    pass


class InvalidSetting(AscnError):
    title = "Invalid setting"


class InvalidRequest(AscnError):
    type_uri = ERRORS + "InvalidRequest"
    title = "Invalid request"
    status = 400


class BadRequestData(AscnError):
    type_uri = ERRORS + "BadRequestData"
    title = "Bad request data"
    status = 400


class AlreadyExists(AscnError):
    type_uri = ERRORS + "AlreadyExists"
    title = "Already exists"
    status = 409


class OperationNotSupported(AscnError):
    type_uri = ERRORS + "OperationNotSupported"
    title = "Operation not supported"
    status = 422


class ResourceNotFound(AscnError):
    type_uri = ERRORS + "ResourceNotFound"
    title = "Resource not found"
    status = 404


class NonexistentTenant(AscnError):
    type_uri = ERRORS + "NonexistentTenant"
    title = "Nonexistent tenant"
    status = 404


class TooComplexQuery(AscnError):
    type_uri = ERRORS + "TooComplexQuery"
    title = "Too complex query"
    status = 403


class TooManyResults(AscnError):
    type_uri = ERRORS + "TooManyResults"
    title = "Too many results"
    status = 403


class LdContextNotAvailable(AscnError):
    """Status 504 as NGSI-LD 1.8.1 defines it (earlier versions said 503)."""

    type_uri = ERRORS + "LdContextNotAvailable"
    title = "LD context not available"
    status = 504


class MethodNotAllowed(AscnError):
    type_uri = ERRORS + "OperationNotSupported"
    title = "Method not allowed"
    status = 405


class NotAcceptable(AscnError):
    type_uri = ERRORS + "InvalidRequest"
    title = "Not acceptable"
    status = 406


class LengthRequired(AscnError):
    type_uri = ERRORS + "InvalidRequest"
    title = "Length required"
    status = 411


class PayloadTooLarge(AscnError):
    type_uri = ERRORS + "BadRequestData"
    title = "Payload too large"
    status = 413


class UnsupportedMediaType(AscnError):
    type_uri = ERRORS + "InvalidRequest"
    title = "Unsupported media type"
    status = 415


class ServiceUnavailable(AscnError):
    type_uri = ERRORS + "InternalError"
    title = "Service unavailable"
    status = 503
