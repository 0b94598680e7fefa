"""The building blocks every aggregate module uses.

Events are immutable pydantic models (``frozen=True, extra="forbid"``), nested in the aggregate
they change, and applied by their own ``apply`` method. Aggregates are small mutable objects
that the eventsourcing library can save and load: they expose ``id``, ``version`` and
``collect_events()``, and events expose ``mutate()``.

Personal data lives in :class:`Personal` models. When an event is stored, an adapter may pass
``seal``/``unseal`` functions in the pydantic serialisation/validation context to encrypt
those models per data subject; the domain itself never does I/O or cryptography.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from datetime import datetime
from enum import Enum
from hashlib import sha1
from typing import Any, ClassVar, Self, TypeVar
from uuid import NAMESPACE_URL, UUID, SafeUUID, uuid5

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from gridcore.errors import ConcurrencyConflict

M = TypeVar("M", bound=BaseModel)

NAMESPACE = uuid5(NAMESPACE_URL, "https://gridcore.example/ids")


_NAMESPACE_BYTES = NAMESPACE.bytes
_V5_CLEAR = ~((0xc000 << 48) | (0xf000 << 64))
_V5_SET = (0x8000 << 48) | (5 << 76)


def stable_id(kind: str, key: str) -> UUID:
    """A deterministic id for an index-like aggregate (a grid code, a client command id):
    ``uuid5(NAMESPACE, f"{kind}:{key}")``, computed as ``uuid5`` does (SHA-1, the variant and
    version bits) without its ``UUID(bytes=..., version=5)`` call, which took half its time
    (a bulk registration derives one per household)."""
    digest = sha1(_NAMESPACE_BYTES + f"{kind}:{key}".encode()).digest()
    made = _new_uuid(UUID)
    _set(made, "int", int.from_bytes(digest[:16]) & _V5_CLEAR | _V5_SET)
    _set(made, "is_safe", SafeUUID.unknown)
    return made


_new_uuid = object.__new__


EVENT_NAMESPACE = UUID("6f1c2b0e-5d0a-4f7e-9a51-3c1e0b7d8a42")


def event_id(originator_id: UUID | str, version: int) -> UUID:
    """The id of a domain event: the same aggregate and version, the same id. The outbound
    feed carries it and a stuck read model names it, so both point at one event."""
    return uuid5(EVENT_NAMESPACE, f"{originator_id}:{version}")


class Immutable(BaseModel):
    # hide_input_in_errors: a validation error must not echo a phone or ID number.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        return self  # frozen, and never mutated in place: copies may share it


SEAL = "seal"
UNSEAL = "unseal"


class Personal(Immutable):
    """Identifying data of one data subject (a resident or a household's address).

    Stored sealed with the subject's own key when the store provides a sealer; after the key
    is destroyed it reads back as ``erased=True`` with every personal field ``None``.
    """

    subject_id: UUID
    erased: bool = False

    @model_serializer(mode="wrap")
    def _seal(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        context = info.context
        if context and SEAL in context and not self.erased:
            return context[SEAL](self.subject_id, data)
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _unseal(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        context = info.context
        if context and UNSEAL in context and isinstance(data, dict) and "sealed" in data:
            opened = context[UNSEAL](data)
            if opened is None:
                return handler({"subject_id": data["subject_id"], "erased": True})
            return handler(opened)
        return handler(data)


class Event(Immutable):
    """A past-tense fact about one aggregate.

    ``class_version`` is bumped when the stored shape changes; ``upcast_vN_vN+1`` static
    methods on the class turn an old stored state into the next one when it is read.
    """

    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: datetime

    def mutate(self, aggregate: Any) -> Any:
        if aggregate is None:
            msg = f"{type(self).__qualname__} cannot start an aggregate"
            raise TypeError(msg)
        if self.originator_version != aggregate.version + 1:
            msg = (
                f"{type(self).__qualname__} v{self.originator_version} does not follow "
                f"v{aggregate.version} of {aggregate.id}"
            )
            raise ConcurrencyConflict(msg, "Reload the aggregate and try again.")
        self.apply(aggregate)
        aggregate._version = self.originator_version
        aggregate._modified_on = self.timestamp
        return aggregate

    def apply(self, aggregate: Any) -> None:
        """Change the aggregate's state; overridden by each event."""


class Created(Event):
    """The first event of an aggregate; its ``apply`` sets the initial state."""

    aggregate_class: ClassVar[type[Aggregate]]

    def mutate(self, aggregate: Any) -> Any:
        agg = self.aggregate_class.__new__(self.aggregate_class)
        agg._id = self.originator_id
        agg._version = self.originator_version
        agg._created_on = self.timestamp
        agg._modified_on = self.timestamp
        agg._pending = []
        self.apply(agg)
        return agg


class Aggregate:
    """A consistency boundary rebuilt from its events."""

    _id: UUID
    _version: int
    _created_on: datetime
    _modified_on: datetime
    _pending: list[Event]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for value in vars(cls).values():
            if isinstance(value, type) and issubclass(value, Created):
                value.aggregate_class = cls

    @property
    def id(self) -> UUID:
        return self._id

    @property
    def version(self) -> int:
        return self._version

    @property
    def created_on(self) -> datetime:
        return self._created_on

    @property
    def modified_on(self) -> datetime:
        return self._modified_on

    @classmethod
    def _create(cls, event_class: type[Created], id: UUID, at: datetime, **kwargs: Any) -> Self:
        event = event_class(originator_id=id, originator_version=1, timestamp=at, **kwargs)
        return cls._start(event)

    @classmethod
    def _create_trusted(cls, event_class: type[Created], id: UUID, at: datetime,
                        **kwargs: Any) -> Self:
        """Like ``_create`` for bulk paths whose values are already validated models (no
        second validation pass); every field must be given with its declared type."""
        return cls._start(trusted(event_class, originator_id=id, originator_version=1,
                                  timestamp=at, **kwargs))

    @classmethod
    def _start(cls, event: Created) -> Self:
        agg: Self = event.mutate(None)  # a Created event of cls makes a cls
        agg._pending.append(event)
        return agg

    def _trigger(self, event_class: type[Event], at: datetime, **kwargs: Any) -> None:
        event = event_class(
            originator_id=self._id, originator_version=self._version + 1, timestamp=at, **kwargs
        )
        event.mutate(self)
        self._pending.append(event)

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """A copy for one command (the repository's cache hands out copies): values that are
        immutable are shared, containers are copied."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update({k: _copied(v, memo) for k, v in self.__dict__.items()})
        return clone

    def collect_events(self) -> list[Event]:
        events, self._pending = self._pending, []
        return events

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self._id}, version={self._version})"


_PLAIN: dict[type, tuple[str, ...] | None] = {}


def _plain_fields(cls: type[BaseModel]) -> tuple[str, ...] | None:
    """The field names of a model ``trusted`` may fill directly (no aliases, no post-init,
    no private attributes, not a root model); None for any other model."""
    if cls not in _PLAIN:
        fields = cls.model_fields
        plain = (not cls.__pydantic_root_model__ and not cls.__pydantic_post_init__
                 and not cls.__private_attributes__
                 and cls.model_config.get("extra") != "allow"
                 and all(f.alias is None and f.validation_alias is None
                         for f in fields.values()))
        _PLAIN[cls] = tuple(fields) if plain else None
    return _PLAIN[cls]


def trusted(cls: type[M], **values: Any) -> M:
    """``cls.model_construct(**values)`` (values already validated, of their declared types)
    for a bulk path: when every field is given it fills the model directly, at a fifth of
    ``model_construct``'s cost (its per-field alias and default look-ups were 7% of a bulk
    registration); else it is ``model_construct``. The same model either way."""
    names = _plain_fields(cls)
    if names is None or len(values) != len(names):
        return cls.model_construct(**values)
    try:
        fields = {name: values[name] for name in names}
    except KeyError:
        return cls.model_construct(**values)
    m = cls.__new__(cls)
    _set(m, "__dict__", fields)
    _set(m, "__pydantic_fields_set__", set(names))
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


_set = object.__setattr__

_ATOMIC = (str, int, float, bool, bytes, type(None), UUID, datetime, Enum, Immutable)


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    if isinstance(value, _ATOMIC):
        return value
    kind = type(value)
    # Containers of immutable values (an alert desk's deadlines, thousands of them) are
    # copied whole: a call per value made copying them the larger part of a batch's reads.
    if kind is list:
        if all(isinstance(v, _ATOMIC) for v in value):
            return value.copy()
        return [_copied(v, memo) for v in value]
    if kind is dict:
        if all(isinstance(v, _ATOMIC) for v in value.values()):
            return value.copy()
        return {k: _copied(v, memo) for k, v in value.items()}
    if kind is set:
        return set(value) if all(isinstance(v, _ATOMIC) for v in value) else deepcopy(value, memo)
    if kind is tuple:
        return tuple(_copied(v, memo) for v in value)
    return deepcopy(value, memo)


Rule = Callable[..., Any]


def upcast(cls: type, state: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored state up to the class's current version, one step at a time."""
    current = getattr(cls, "class_version", 1)
    version = state.pop("class_version", 1)
    while version < current:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state
