"""What keeps one request from exhausting the server: the body limit (checked before anything
is parsed), the document limit (before the query text is parsed) and the cost limit (when a
document is validated).

The server is reachable without a token (a resident files a request, anyone may ask what a
bad token gets), so none of these may depend on who is asking, except that a signed-in staff
member may send a larger body: a field device's offline batch (``syncFieldRecords``) of a day's
visits is larger than any query. The token is checked (a signature and an expiry, no store
read) only when a body is larger than the anonymous limit.

The cost is an estimate made from the document alone, so that the verdict can be kept with the
document (``graphql_api.execution.DocumentCache``) whatever the variables: each field costs 1,
a field with a ``first``/``last`` argument multiplies what it selects by that number (capped
at the largest page, the whole page for a variable, which may be anything), and a list field
without one by a guess (``LIST_GUESS``); the lists of a connection count once, its ``first``
has counted them already. Introspection (``__schema``, ``__type``: development only) is free,
so GraphiQL keeps working.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.language.visitor import SKIP

from graphql_api.auth import TokenError, bearer, read_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LIST_GUESS = 10
"""how many items a list without a ``first``/``last`` argument is taken to hold (a household's
residents, a node's children or campaigns, a timeline asked in full)"""


def error_body(message: str, code: str) -> bytes:
    """A GraphQL-style answer carrying only an error (for refusals made before GraphQL runs):
    every 4xx of ``/graphql`` has this shape, so a client reads one kind of refusal."""
    return orjson.dumps({"data": None,
                         "errors": [{"message": message, "extensions": {"code": code}}]})


class Refused(HTTPException):
    """An HTTP refusal of the API with its error code (``extensions.code``)."""

    def __init__(self, status_code: int, reason: str, code: str) -> None:
        super().__init__(status_code, reason)
        self.code = code


_BY_STATUS = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_CONTENT_TYPE"}

_ONE_OPERATION = ("The request body is a JSON list, a batch of operations; batching is not "
                  "supported, a request runs one operation. Send a JSON object with a `query` "
                  "string, one request an operation.")

STRAWBERRY_REFUSALS: dict[str, tuple[int, str, str]] = {
    # strawberry's own refusals (terse, plain text) as the API words them
    "Batching is not enabled": (400, "BATCH_NOT_SUPPORTED", _ONE_OPERATION),
    "Too many operations": (400, "BATCH_NOT_SUPPORTED", _ONE_OPERATION),
    "No GraphQL query found in the request": (
        400, "NO_QUERY", "The request holds no GraphQL query. Send a JSON object with a "
        "`query` string (and optional `variables` and `operationName`)."),
    "Unable to parse request body as JSON": (
        400, "BAD_JSON", "The request body is not valid JSON. Send a JSON object in UTF-8."),
    "Not Found": (404, "NOT_FOUND", "GraphiQL is not served here (production). Send GraphQL "
                  "requests as a JSON object in a POST to /graphql."),
    "GraphQL only supports GET and POST requests.": (
        405, "METHOD_NOT_ALLOWED", "GraphQL is served over POST (and GET in development); "
        "send a POST with a JSON body and `Content-Type: application/json`."),
}


def refusal(error: HTTPException, content_type: str | None) -> tuple[int, bytes]:
    """The status and JSON body (``error_body``) of an HTTP refusal raised while a request
    is read (strawberry's, the token's, a malformed body's)."""
    if error.reason == "Unsupported content type":
        given = (f"The request's Content-Type is {content_type[:80]!r}" if content_type
                 else "The request has no Content-Type")
        return 415, error_body(f"{given}; send the GraphQL request as a JSON object with "
                               "`Content-Type: application/json`.", "UNSUPPORTED_CONTENT_TYPE")
    known = STRAWBERRY_REFUSALS.get(error.reason)
    if known is not None:
        status, code, message = known
        return status, error_body(message, code)
    code = getattr(error, "code", None) or _BY_STATUS.get(error.status_code, "BAD_REQUEST")
    return error.status_code, error_body(error.reason or "The request was refused.", code)


class BodyLimit:
    """ASGI middleware: a request body larger than the limit is answered 413 before more of it
    is read (a declared ``Content-Length`` is judged before any byte is read; a streamed body is
    counted as it arrives), and a query string longer than the limit (GraphQL over GET, in
    development) is answered 414. The body is buffered here and handed on whole (strawberry
    reads it whole anyway).

    ``staff_limit`` applies instead when the ``Authorization`` header carries a valid token
    signed with ``secret`` (checked only for a body over ``limit``)."""

    def __init__(self, app: Any, limit: int, staff_limit: int, secret: str) -> None:
        self.app, self.limit, self.secret = app, limit, secret
        self.staff_limit = max(staff_limit, limit)

    def _signed_in(self, scope: Scope) -> bool:
        header = next((v for k, v in scope.get("headers") or () if k == b"authorization"), None)
        if header is None:
            return False
        try:
            token = bearer(header.decode("latin-1"))
            return token is not None and read_token(self.secret, token) is not None
        except TokenError:
            return False

    def _refusal(self, size: int | None, signed_in: bool) -> bytes:
        limit = self.staff_limit if signed_in else self.limit
        told = (f"{size} bytes; the limit is {limit} bytes" if size is not None
                else f"larger than the limit of {limit} bytes")  # streamed: counted so far
        more = ("" if signed_in or self.staff_limit == self.limit else
                f" (signed-in staff may send up to {self.staff_limit} bytes)")
        return error_body(f"The request body is {told}{more}. Send a smaller document or "
                          "fewer records at once.", "BODY_TOO_LARGE")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string") or b"") > self.limit:
            await _answer(send, 414, error_body(
                f"The query string is longer than {self.limit} bytes; send the document in "
                "a POST body.", "URI_TOO_LONG"))
            return
        declared = _content_length(scope)
        if declared == -1:
            await _answer(send, 400, error_body("The Content-Length header is not a number.",
                                                "BAD_REQUEST"))
            return
        allowed, signed_in = self.limit, False
        if declared is not None and declared > allowed:
            signed_in = self._signed_in(scope)
            allowed = self.staff_limit if signed_in else self.limit
            if declared > allowed:
                await _answer(send, 413, self._refusal(declared, signed_in))
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > allowed and not signed_in and self.staff_limit > allowed:
                signed_in = self._signed_in(scope)
                allowed = self.staff_limit if signed_in else self.limit
            if size > allowed:
                await _answer(send, 413, self._refusal(None, signed_in))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, handed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length (None without one, -1 when it is not a number)."""
    for key, value in scope.get("headers") or ():
        if key == b"content-length":
            return int(value) if value.isdigit() and len(value) < 19 else -1
    return None


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def document_problem(query: str, max_chars: int) -> GraphQLError | None:
    """The refusal of a query text too long to parse at all (before any parsing: the token
    limit counts a string literal as one token, so a long one would be read whole)."""
    if len(query) > max_chars:
        return GraphQLError(f"This document is {len(query)} characters long; the limit is "
                            f"{max_chars}. Send a shorter document (values belong in "
                            "variables).")
    return None


def cost_message(cost: int, limit: int) -> str:
    return (f"This query costs {cost}; the limit is {limit}. Ask for fewer items (first:) or "
            "fewer nested lists.")


def query_cost_rule(max_cost: int, page_max: int,
                    list_guess: int = LIST_GUESS) -> type[ValidationRule]:
    """A validation rule refusing operations whose estimated cost is over ``max_cost``."""

    class QueryCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode,
                                       *_: Any) -> Any:
            cost = OperationCost(self.context, page_max, list_guess).of(node)
            if cost > max_cost:
                self.report_error(GraphQLError(cost_message(cost, max_cost), node))
            return SKIP

    return QueryCost


class OperationCost:
    """The estimated cost of one operation of a document being validated (the rules of the
    module's docstring); unknown fields and types cost 1 (other rules report them)."""

    def __init__(self, context: Any, page_max: int, list_guess: int) -> None:
        self.context, self.schema = context, context.schema
        self.page_max, self.list_guess = page_max, list_guess
        self._fragments: dict[str, int] = {}
        self._walking: set[str] = set()

    def of(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self.selections(operation.selection_set, root) if root is not None else 0

    def selections(self, selection_set: SelectionSetNode, parent: Any) -> int:
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                typed = (self.schema.get_type(node.type_condition.name.value)
                         if node.type_condition is not None else None)
                total += self.selections(node.selection_set, typed or parent)
            elif isinstance(node, FragmentSpreadNode):
                total += self.fragment(node.name.value)
        return total

    def fragment(self, name: str) -> int:
        known = self._fragments.get(name)
        if known is not None:
            return known
        definition: FragmentDefinitionNode | None = self.context.get_fragment(name)
        if definition is None or name in self._walking:  # unknown or a cycle: reported elsewhere
            return 0
        self._walking.add(name)
        typed = self.schema.get_type(definition.type_condition.name.value)
        cost = self.selections(definition.selection_set, typed) if typed is not None else 0
        self._walking.discard(name)
        self._fragments[name] = cost
        return cost

    def field(self, node: FieldNode, parent: Any) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if fields else None
        if definition is None or node.selection_set is None:
            return 1
        inner = self.selections(node.selection_set, get_named_type(definition.type))
        return 1 + self.multiplier(node, definition, parent) * inner

    def multiplier(self, node: FieldNode, definition: Any, parent: Any) -> int:
        for arg in ("first", "last"):
            if arg in definition.args:
                given = next((a.value for a in node.arguments or () if a.name.value == arg),
                             None)
                if given is None:
                    default = definition.args[arg].default_value
                    if isinstance(default, int):
                        return max(0, min(default, self.page_max))
                elif isinstance(given, IntValueNode):
                    digits = given.value.lstrip("-")
                    if given.value.startswith("-"):
                        return 0
                    return min(int(digits), self.page_max) if len(digits) < 10 \
                        else self.page_max
                elif not isinstance(given, NullValueNode):  # a variable: any page
                    return self.page_max if isinstance(given, VariableNode) else 1
                break  # null or absent without a default: the whole list
        if is_list_type(get_nullable_type(definition.type)):
            return 1 if parent.name.endswith("Connection") else self.list_guess
        return 1
