"""Checkpoints (卡口) and their cameras' counterpart for cars: where vehicle passes are seen.

A checkpoint is registered in a grid node; its vehicle alerts go to that grid's responsible
worker. Registering the same checkpoint again with the same values changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Created, stable_id
from gridcore.errors import InvalidInput
from gridcore.location import Locatable, Placed
from gridcore.risk import check_input_id


def checkpoint_id(code: str) -> UUID:
    return stable_id("checkpoint", code)


class Checkpoint(Locatable):
    code: str
    grid_code: str
    name: str

    class Located(Placed):
        """The checkpoint's point."""

    class Registered(Created):
        code: str
        grid_code: str
        name: str

        def apply(self, c: Checkpoint) -> None:
            c.code, c.grid_code, c.name = self.code, self.grid_code, self.name

    @classmethod
    def register(cls, code: str, grid_code: str, name: str, at: datetime) -> Checkpoint:
        check_input_id(code, "checkpoint")
        if not 1 <= len(name.strip()) <= 60:
            raise InvalidInput(f"Checkpoint {code} has no usable name.",
                               "Name it in 1-60 characters, e.g. '后湖大道卡口'.")
        return cls._create(cls.Registered, checkpoint_id(code), at, code=code,
                           grid_code=grid_code, name=name.strip())

    def same_as(self, grid_code: str, name: str) -> bool:
        return (self.grid_code, self.name) == (grid_code, name.strip())

    def __repr__(self) -> str:
        return f"Checkpoint(code={self.code!r}, grid={self.grid_code!r})"
