"""Chat messages (群内自报) held for review or set aside (``gridcore.chat_review``), the
worker's resolution of a held one, and the look-ups the chat intake needs: whether a message
was taken in before, the campaign a household's check-in counts for."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.app_base import ApplicationBase, command
from gridcore.authority import Actor, staff_of
from gridcore.base import Aggregate
from gridcore.chat_review import (
    ChatReview,
    ChatReviewDesk,
    Dismissal,
    Disposition,
    Resolution,
    chat_client_id,
    chat_desk_id,
    chat_review_id,
)
from gridcore.errors import InvalidInput, parse_enum
from gridcore.grid import Level
from gridcore.household import Household
from gridcore.idempotency import ClientCommand, client_command_id
from gridcore.sweep import Campaign, CampaignStatus
from gridcore.sweep_index import OPEN_CAMPAIGNS_ID, OpenCampaigns
from gridcore.text import free_text

MAX_CHAT_TEXT = 2000


class ChatCommands(ApplicationBase):
    """The chat intake's side of the application."""

    # ---- look-ups ---------------------------------------------------------------------------

    def chat_message_taken(self, micro_grid: str, message_id: str) -> bool:
        """Whether the message was taken in before: recorded as a check-in, held, set aside
        or recorded as monitoring reports only."""
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

    def chat_review(self, micro_grid: str, message_id: str) -> ChatReview:
        """A message of ``micro_grid``'s group the intake held or set aside (its text as
        stored: ``erased`` once resolved or erased with its sender)."""
        return self._get(ChatReview, chat_review_id(micro_grid, message_id),
                         f"chat message {message_id[:60]!r} of {micro_grid}'s group held "
                         "or set aside (one recorded as a visit is on the visit)",
                         "Give the message id as chatReview lists it.")

    def chat_review_counts(self, micro_grid: str) -> dict[str, int]:
        """How many of the micro-grid's held messages are still held, and how many its
        workers resolved (recorded by hand, dismissed)."""
        desk = self._find(ChatReviewDesk, chat_desk_id(micro_grid), for_reading=True)
        if desk is None:
            return {"held": 0, "recorded_by_hand": 0, "dismissed": 0}
        return {"held": len(desk.held),
                "recorded_by_hand": desk.count(Resolution.RECORDED_BY_HAND),
                "dismissed": desk.count(Resolution.DISMISSED)}

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

    @command
    def resolve_chat_message(self, micro_grid: str, message_id: str, resolution: Resolution,
                             household: UUID | None = None, dismissal: Dismissal | None = None,
                             *, by: Actor) -> int | None:
        """Clear a message of ``micro_grid``'s group held for review: ``RECORDED_BY_HAND``
        (the worker recorded the visit themself through ``recordVisit``; ``household`` names
        it) or ``DISMISSED`` (``dismissal`` says why). It leaves the held list, and its sender
        and text are shredded (its key destroyed in the same transaction). The same
        resolution again writes nothing; another one, or one for a message set aside, is
        refused."""
        at = self.clock()
        resolution = parse_enum(Resolution, resolution, "chat message resolution")
        dismissal = None if dismissal is None else parse_enum(
            Dismissal, dismissal, "reason to dismiss a chat message")
        if household is not None:
            self.household(household)
        review = self.chat_review(micro_grid, message_id)
        if not review.resolve(resolution, household, dismissal, staff_of(by), at):
            return None
        desk = self._find(ChatReviewDesk, chat_desk_id(micro_grid))
        if desk is not None:
            desk.clear(review.id, resolution, at)
        return self._save(review, desk)

    def _chats_erased_with_resident(self, household: Household, rid: UUID,
                                    at: datetime) -> list[Aggregate]:
        """The held chat messages sent under the resident's name are shredded with them (an
        erasure participant, see ``GridcoreApp._erasure_participants``): in every micro-grid
        the household has been in, each held message whose sender (the chat's display name)
        is the resident's registered name. A message names no resident id, so the name is
        the link; a namesake's messages in the same group go too (erring towards erasure).
        A resolved message needs nothing: its key was destroyed when it was resolved, so a
        message recorded by hand for the household holds nothing of its residents."""
        r = household.residents.get(rid) or household.former.get(rid)
        name = (r.identity.name or "").strip() if r is not None and not r.erased else ""
        if not name:
            return []
        found: list[Aggregate] = []
        for grid in dict.fromkeys([*(g for _, g in household.grid_history),
                                   household.micro_grid]):
            desk = self._find(ChatReviewDesk, chat_desk_id(grid), for_reading=True)
            for review_id in desk.held if desk else []:
                review = self._find(ChatReview, review_id)
                sender = review.content.sender if review and review.content else None
                if review is not None and (sender or "").strip() == name and review.shred(
                        "随居民删除 erased with the resident", at):
                    found.append(review)
        return found
