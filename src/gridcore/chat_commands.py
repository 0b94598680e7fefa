"""Chat messages (群内自报) held for review or set aside (``gridcore.chat_review``), and the
look-ups the chat intake needs: whether a message was taken in before, the campaign a
household's check-in counts for."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.app_base import ApplicationBase, command
from gridcore.authority import Actor
from gridcore.chat_review import (
    ChatReview,
    ChatReviewDesk,
    Disposition,
    chat_client_id,
    chat_desk_id,
    chat_review_id,
)
from gridcore.errors import InvalidInput
from gridcore.grid import Level
from gridcore.idempotency import ClientCommand, client_command_id
from gridcore.sweep import Campaign, CampaignStatus
from gridcore.sweep_index import OPEN_CAMPAIGNS_ID, OpenCampaigns
from gridcore.text import free_text

MAX_CHAT_TEXT = 2000


class ChatCommands(ApplicationBase):
    """The chat intake's side of the application."""

    # ---- look-ups ---------------------------------------------------------------------------

    def chat_message_taken(self, micro_grid: str, message_id: str) -> bool:
        """Whether the message was taken in before: recorded as a check-in, held or set
        aside."""
        found = self._find(ChatReview, chat_review_id(micro_grid, message_id),
                           for_reading=True)
        return found is not None or self._find(
            ClientCommand, client_command_id(chat_client_id(micro_grid, message_id)),
            for_reading=True) is not None

    def chat_reviews(self, micro_grid: str) -> list[ChatReview]:
        """The micro-grid's held messages, oldest first (texts as stored: sealed values
        opened by the mapper, ``erased`` once their key is gone)."""
        desk = self._find(ChatReviewDesk, chat_desk_id(micro_grid),
                          for_reading=True)
        return [r for rid in (desk.held if desk else [])
                if (r := self._find(ChatReview, rid, for_reading=True))
                is not None]

    def open_campaign_of(self, hid: UUID) -> UUID | None:
        """The open campaign a household is in (the narrowest, when several are)."""
        index = self._find(OpenCampaigns, OPEN_CAMPAIGNS_ID,
                           for_reading=True)
        found: list[Campaign] = []
        for cid in index.ids if index else []:
            c = self._find(Campaign, cid, for_reading=True)
            if c is not None and c.status is CampaignStatus.OPEN and hid in c.households:
                found.append(c)
        return min(found, key=lambda c: len(c.households)).id if found else None

    # ---- commands ---------------------------------------------------------------------------

    @command
    def take_chat_message(self, micro_grid: str, message_id: str, sent_at: datetime,
                          disposition: Disposition, kind: str, reason: str, sender: str,
                          text: str, *, by: Actor) -> int | None:
        """Hold a chat message of ``micro_grid``'s group for its worker (``HELD``: with the
        sender, the text and why it was not understood, sealed) or set it aside (``IGNORED``:
        its kind only). Taken once per message: a message taken before writes nothing."""
        at = self.clock()
        node = self.node(micro_grid)
        if node.level is not Level.MICRO_GRID:
            raise InvalidInput(f"{micro_grid} is not a micro-grid.",
                               "Give the code of the micro-grid whose chat group it is.")
        if not 1 <= len(message_id) <= 200:
            raise InvalidInput("A chat message id must be 1-200 characters.",
                               "Send the chat's own message id.")
        if len(text) > MAX_CHAT_TEXT or len(sender) > 200 or len(reason) > MAX_CHAT_TEXT:
            raise InvalidInput(f"The message is longer than {MAX_CHAT_TEXT} characters.",
                               "Send one chat message per item.")
        kind = free_text(kind, "kind of chat message", longest=40, required=True)
        when = self.check_time(sent_at, "message time")
        if self._find(ChatReview, chat_review_id(micro_grid, message_id)) is not None:
            return None
        review = ChatReview.take(micro_grid, message_id, when, disposition, kind, reason,
                                 sender, text, at)
        desk = None
        if disposition is Disposition.HELD:
            desk = self._find(ChatReviewDesk, chat_desk_id(micro_grid)) or \
                ChatReviewDesk.open(micro_grid, at)
            desk.hold(review.id, at)
        return self._save(review, desk)
