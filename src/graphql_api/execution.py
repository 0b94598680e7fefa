"""How a GraphQL request is checked and executed cheaply.

Each distinct query text is parsed and validated once, with the same checks (depth, aliases,
tokens, cost, introspection) as strawberry's per-request extensions (``CheckedDocuments``;
strawberry's ``ValidationCache`` never hit: its key includes the depth limiter's rule class,
new on every request). A text too long is refused before it is parsed, a document of several
operations needs ``operationName``, and the cache is bounded by the memory its documents hold,
not only by their number. Leaf fields without a resolver of their own, and objects or lists made
only of such fields, skip graphql-core's general field machinery (``LeanExecution``); nulls,
errors, unexpected types and any middleware fall back to the normal path. The API benchmark
(``simulations/benchmarks/api.py``) measures what this buys against plain routes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLString,
    OperationDefinitionNode,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
    parse,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.limits import document_problem

SEVERAL_OPERATIONS = ("This document has several operations; name the one to run in "
                      "operationName.")
_STAND_IN = parse("{ __typename }")
"""the document put in place of a text refused before parsing (the refusal is reported at
validation, where strawberry expects refusals)"""


class CheckedDocuments(SchemaExtension):
    """Parses and validates each distinct query text once, with every document check of the
    schema (its validation rules, depth, aliases, introspection and the token limit), and
    keeps the document and its errors by the text (a bounded LRU shared by all requests).

    strawberry's own ``ValidationCache`` keys on the rules too, and the depth limiter makes
    a new rule class for every request, so it never hit: every request walked its document
    again (about 2 ms for a page of households)."""

    def __init__(self, cache: DocumentCache) -> None:
        super().__init__()
        self.cache = cache
        self.refused: GraphQLError | None = None

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        known = self.cache.get(ec.query)
        if known is not None:
            ec.graphql_document = known[0]
        elif ec.query is not None and (
                problem := document_problem(ec.query, self.cache.max_chars)) is not None:
            self.refused, ec.graphql_document = problem, _STAND_IN
        elif self.cache.max_tokens is not None:  # None: graphql-core's default, no limit
            ec.parse_options["max_tokens"] = self.cache.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        refused = self.refused or _unnamed_operation(ec)
        if refused is not None:  # (not kept: the same text may come with a name next time)
            ec.pre_execution_errors = [refused]
            yield
            return
        known = self.cache.get(ec.query)
        if known is not None:
            ec.pre_execution_errors = list(known[1])
            yield
            return
        ec.validation_rules = (*ec.validation_rules, *self.cache.rules)
        yield
        if ec.query is not None and ec.graphql_document is not None:
            self.cache.put(ec.query, ec.graphql_document, ec.pre_execution_errors or [])


def _unnamed_operation(ec: Any) -> GraphQLError | None:
    """The refusal of a document of several operations sent without ``operationName``
    (strawberry would run the first one: the client may well have meant another)."""
    # the name as the request gave it (``operation_name`` falls back to the first operation's)
    if ec.graphql_document is None or getattr(ec, "_provided_operation_name", None) is not None:
        return None
    operations = sum(isinstance(d, OperationDefinitionNode)
                     for d in ec.graphql_document.definitions)
    return GraphQLError(SEVERAL_OPERATIONS) if operations > 1 else None


class DocumentCache:
    """Query text -> (document, validation errors), least recently used dropped first, at
    most ``maxsize`` of them and at most ``max_bytes`` of memory, as estimated by ``weight``
    (a parsed document holds far more than its text: about 600 bytes a token). A document
    weighing more than a sixteenth of the budget is not kept at all: one such request would
    push out the documents every client sends."""

    def __init__(self, rules: Sequence[Any], max_tokens: int | None,
                 maxsize: int = 512, max_bytes: int = 32 * 1024 * 1024,
                 max_chars: int = 32 * 1024) -> None:
        self.rules, self.max_tokens, self.maxsize = tuple(rules), max_tokens, maxsize
        self.max_bytes, self.max_chars = max_bytes, max_chars
        self.size = 0
        """the estimated bytes of the documents kept"""
        self._known: OrderedDict[str, tuple[Any, tuple[Any, ...], int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)

    def get(self, query: str | None) -> tuple[Any, tuple[Any, ...]] | None:
        if query is None:
            return None
        found = self._known.get(query)
        if found is None:
            return None
        self._known.move_to_end(query)
        return found[0], found[1]

    def put(self, query: str, document: Any, errors: Sequence[Any]) -> None:
        weight = self.weight(query, document)
        if weight > self.max_bytes // 16:
            return
        old = self._known.pop(query, None)
        if old is not None:
            self.size -= old[2]
        self._known[query] = (document, tuple(errors), weight)
        self.size += weight
        while self._known and (len(self._known) > self.maxsize or self.size > self.max_bytes):
            self.size -= self._known.popitem(last=False)[1][2]

    @staticmethod
    def weight(query: str, document: Any) -> int:
        """The estimated memory a document and its text hold: the text and 600 bytes a
        token (measured with tracemalloc on parsed and validated documents: 560 to 620)."""
        tokens, loc = 0, getattr(document, "loc", None)
        token = loc.start_token if loc is not None else None
        while token is not None:
            tokens += 1
            token = token.next
        return 2 * len(query) + 600 * tokens


class LeanExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution with short paths for what most of a large answer is made of:
    fields with no resolver of their own (strawberry reads the attribute) and a scalar or
    enum type, asked without arguments. Such a field is read and coerced directly, without
    its resolve info and the general completion; an object asked only for such fields (a
    rollup's counts, a resident's status) becomes its dict in one loop. A value that is
    null, an error or of an unexpected type takes the general path, which resolves it again
    and reports it at its path, so answers and errors are exactly as before; with any
    middleware (a resolve hook) everything takes the general path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._lean = manager is None or not manager._middleware_resolvers
        self._plans: dict[int, tuple[Any, list[tuple[str, Reader]] | None]] = {}

    def _plan(self, parent_type: Any, grouped_field_set: Any
              ) -> list[tuple[str, Reader]] | None:
        # graphql-core memoizes a selection's grouped fields for the execution, so the plan
        # is made once per selection (the set is kept alive with it: ids stay unique)
        plan = self._plans.get(id(grouped_field_set))
        if plan is None:
            plan = (grouped_field_set, _leaf_plan(parent_type, grouped_field_set))
            self._plans[id(grouped_field_set)] = plan
        return plan[1]

    def execute_fields(self, parent_type: Any, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        if self._lean:
            plan = self._plan(parent_type, grouped_field_set)
            done = _read_all(plan, source_value) if plan is not None else None
            if done is not None:
                return done
        return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                      position_context)

    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any,
                            path: Any, result: Any, position_context: Any) -> Any:
        """A list of objects asked only for short-path fields: each item's dict directly."""
        named = get_nullable_type(return_type.of_type)
        if self._lean and isinstance(result, list | tuple) and is_object_type(named) \
                and named.is_type_of is None:
            grouped, deferred, *_ = self.collect_subfields(named, field_details_list)
            plan = None if deferred else self._plan(named, grouped)
            if plan is not None:
                out = []
                for item in result:
                    done = _read_all(plan, item) if item is not None else None
                    if done is None:
                        break
                    out.append(done)
                else:
                    return out
        return super().complete_list_value(return_type, field_details_list, info, path,
                                           result, position_context)

    def execute_field(self, parent_type: Any, source: Any, field_details_list: Any,
                      path: Any, position_context: Any) -> Any:
        if self._lean:
            node = field_details_list[0].node
            read = None if node.arguments else _leaf_reader(parent_type, node.name.value)
            if read is not None:
                value = read(source)
                if value is not None:
                    return value
        return super().execute_field(parent_type, source, field_details_list, path,
                                     position_context)


Reader = Callable[[Any], Any]
"""source -> the field's output value, or None: let the general path resolve it."""

def _read_all(plan: list[tuple[str, Reader]], source: Any) -> dict[str, Any] | None:
    """An object's answer from its readers (None when one of them cannot decide)."""
    out = {}
    for response_name, read in plan:
        value = read(source)
        if value is None:
            return None
        out[response_name] = value
    return out


_READERS: dict[tuple[int, str], tuple[Any, Reader | None]] = {}


def _leaf_plan(parent_type: Any, grouped_field_set: Any) -> list[tuple[str, Reader]] | None:
    """(response name, reader) of every field of a selection, or None unless all of them
    may take the short path."""
    plan = []
    for response_name, field_details_list in grouped_field_set.items():
        node = field_details_list[0].node
        read = None if node.arguments else _leaf_reader(parent_type, node.name.value)
        if read is None:
            return None
        plan.append((response_name, read))
    return plan


def _leaf_reader(parent_type: Any, name: str) -> Reader | None:
    """The reader of a field that may take the short path, else None; made once per type and
    field."""
    key = (id(parent_type), name)
    known = _READERS.get(key)
    if known is not None and known[0] is parent_type:
        return known[1]
    field_def = None if name.startswith("__") else parent_type.fields.get(name)
    read = None
    if field_def is not None and getattr(field_def.resolve, "_is_default", False) \
            and not field_def.args:
        named = get_nullable_type(field_def.type)
        if is_leaf_type(named):
            read = _reader(field_def, _coercer(named))
        elif is_list_type(named) and is_leaf_type(item := get_nullable_type(named.of_type)):
            read = _reader(field_def, _list_coercer(_coercer(item)))
    _READERS[key] = (parent_type, read)
    return read


def _reader(field_def: Any, coerce: Reader) -> Reader:
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if definition is not None and definition.default_resolver is getattr \
            and not definition.base_resolver:
        get: Reader = attrgetter(definition.python_name)
    else:
        resolve = field_def.resolve

        def get(source: Any) -> Any:
            return resolve(source, None)

    def read(source: Any) -> Any:
        try:
            value = get(source)
            return None if value is None else coerce(value)
        except Exception:  # the general path does it again and reports it at its path
            return None

    return read


_PLAIN = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}
_INT_MIN, _INT_MAX = -(2 ** 31), 2 ** 31 - 1


def _coercer(named: Any) -> Reader:
    """value -> its output value (None when the general path must decide)."""
    wrapped = getattr(named, "wrapped_cls", None)
    if isinstance(named, GraphQLEnumType) and wrapped is not None:  # a strawberry enum
        names = {member: name for name, v in named.values.items() for member in wrapped
                 if member.value == v.value}
        return names.get
    if named in _PLAIN:
        kind = _PLAIN[named]
        return lambda v: v if v.__class__ is kind else _general(named, v)
    if named is GraphQLInt:
        return lambda v: v if v.__class__ is int and _INT_MIN <= v <= _INT_MAX \
            else _general(named, v)
    return lambda v: _general(named, v)


def _list_coercer(coerce: Reader) -> Reader:
    """A list of leaves, each coerced (None when one of them is null or undecided)."""
    def each(values: Any) -> Any:
        if not isinstance(values, list | tuple):
            return None
        out = [coerce(v) if v is not None else None for v in values]
        return None if None in out else out

    return each


def _general(named: Any, value: Any) -> Any:
    coerced = named.coerce_output_value(value)
    return None if coerced is Undefined else coerced


_DOCUMENT_CHECKS = (AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache)


def with_checked_documents(schema: Any, max_chars: int = 32 * 1024,
                           cache_bytes: int = 32 * 1024 * 1024) -> Any:
    """``schema`` with its parsing cache, validation cache and document limits (as
    ``build_schema`` set them) replaced by one ``CheckedDocuments`` that applies the same
    checks once per distinct query text (refusing texts over ``max_chars`` unparsed, and
    keeping documents up to an estimated ``cache_bytes``); its other extensions are kept."""
    rules: list[Any] = []
    max_tokens, kept = None, []
    for factory in schema.extensions:
        ext = factory() if not isinstance(factory, SchemaExtension) else factory
        if isinstance(ext, AddValidationRules):
            rules.extend(ext.validation_rules)
        elif isinstance(ext, MaxTokensLimiter):
            max_tokens = ext.max_token_count
        elif not isinstance(ext, _DOCUMENT_CHECKS):
            kept.append(factory)
    cache = DocumentCache(rules, max_tokens, max_bytes=cache_bytes, max_chars=max_chars)
    schema.extensions = (lambda: CheckedDocuments(cache), *kept)
    if schema.execution_context_class is StrawberryGraphQLCoreExecutionContext:
        schema.execution_context_class = LeanExecution
    return schema
