"""Client command records: a retried or offline-synced command is applied once.

A field device gives each command a client id. The record's aggregate id is derived from that
id, and it is saved in the same transaction as the command's events, so a second attempt
either finds the record or conflicts with it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.base import Aggregate, Created, stable_id
from gridcore.errors import InvalidInput


def client_command_id(client_id: str) -> UUID:
    return stable_id("client-command", client_id)


class ClientCommand(Aggregate):
    client_id: str
    command: str

    class Recorded(Created):
        client_id: str
        command: str

        def apply(self, c: ClientCommand) -> None:
            c.client_id, c.command = self.client_id, self.command

    @classmethod
    def record(cls, client_id: str, command: str, at: datetime) -> ClientCommand:
        if not 1 <= len(client_id) <= 200:
            raise InvalidInput("A client id must be 1-200 characters.",
                               "Send the device's UUID for this command.")
        return cls._create(cls.Recorded, client_command_id(client_id), at,
                           client_id=client_id, command=command)

    def check_same(self, command: str) -> None:
        if command != self.command:
            raise InvalidInput(
                f"Client id {self.client_id!r} was already used for {self.command}.",
                "Generate a new client id for each distinct command.",
            )
