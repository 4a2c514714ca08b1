"""The id of the request being served, so audit events of one request can be tied together."""

from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
