"""``gridcore tracing cases [--scope CODE]`` and ``gridcore tracing chain CASE_NO``: the
contact-tracing cases (流调病例) of a subtree, and a case's chain drawn as a tree (the cases it
came from, itself with its contacts by generation, the cases its contacts became).

Both read as a staff member (``--by STAFF_NO``), within their jurisdiction, and show names as
the API does for that role (``graphql_api.privacy``: a resident's name whole for the roles that
deal with residents as people, a traced person's for those who trace contacts; every whole
name written to the API's audit log). Without ``--by`` they read as the console's operator:
every node, every name masked (``张*``). Cases are listed from the contact follow-up read model
(``projections.contact_followup``), caught up first, as ``gridcore projections run --once``
would; the chain is read from the cases themselves.

Exit codes: 0 shown, 2 an unknown case, node or staff member, or one outside the jurisdiction.
"""

from __future__ import annotations

import os
from datetime import timedelta, timezone
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from gridcore.errors import GridcoreError, NotFound
from gridcore.tracing import Case, Contact, Generation

if TYPE_CHECKING:
    from adapters.bootstrap import System
    from graphql_api.auth import Caller
    from gridcore.application import GridcoreApp

tracing_cli = typer.Typer(help="Contact tracing (流调): cases and their chains.",
                          no_args_is_help=True)

EXIT_OK, EXIT_REFUSED = 0, 2
BEIJING = timezone(timedelta(hours=8))
"""Times are shown in Beijing time (UTC+8), as the dashboard shows them."""
BY_HELP = ("Read as this staff member (staff number): their jurisdiction, and names as their "
           "role sees them; default the operator (every node, names masked).")


class Reader:
    """Who reads (None: the operator) and how they see a person's name."""

    def __init__(self, app: GridcoreApp, staff_no: str | None) -> None:
        from graphql_api.auth import Caller
        from graphql_api.privacy import AuditLog
        from graphql_api.settings import DEFAULT_AUDIT_FILE

        self.app = app
        self.caller: Caller | None = None
        if staff_no is not None:
            s = app.staff_by_no(staff_no)
            self.caller = Caller(staff_id=s.id, role=s.role, jurisdictions=s.jurisdictions)
        self.audit = AuditLog(os.environ.get("GRIDCORE_API_AUDIT_FILE", DEFAULT_AUDIT_FILE))

    def sees(self, code: str) -> bool:
        from graphql_api.scope import inside

        return self.caller is None or inside(self.caller.jurisdictions, self.app.ancestry(code))

    def name(self, case: Case, person_id: UUID, household_id: UUID | None,
             resident_id: UUID | None) -> str:
        """A person's name as the reader may see it: a resident's from the register, else
        what the case knows of them (masked for the operator and for other roles)."""
        from graphql_api.privacy import personal_for

        if household_id is not None and resident_id is not None:
            try:
                r = self.app.household(household_id).residents.get(resident_id)
            except GridcoreError:
                r = None
            if r is None:
                return "—"
            value, field, subject, erased = (r.identity.name, "Resident.name", resident_id,
                                             r.erased)
        else:
            known = (case.index_identity if person_id == case.index_person_id
                     else case.contacts[person_id].identity)
            if known is None:
                return "—"
            value, field, subject, erased = (known.name, "TracedPerson.name", person_id,
                                             known.erased)
        return personal_for(self.caller, self.audit, value, field, str(subject),
                            erased=erased) or "—"


def _open(staff_no: str | None) -> tuple[System, Reader]:
    from adapters.bootstrap import bootstrap

    system = bootstrap()
    try:
        return system, Reader(system.app, staff_no)
    except GridcoreError as e:
        system.close()
        Console().print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_REFUSED) from None


@tracing_cli.command("cases")
def cases(
    scope: Annotated[str | None, typer.Option(
        "--scope", help="The cases followed up at or below this node (default: the reader's "
                        "jurisdiction, or every node for the operator).")] = None,
    by: Annotated[str | None, typer.Option("--by", help=BY_HELP)] = None,
    first: Annotated[int, typer.Option("--first", min=1, max=1000,
                                       help="At most this many cases.")] = 200,
) -> None:
    """The cases of a subtree, oldest first: status, node, contacts by generation, those
    under follow-up and the size of their cluster (a case's chain: `gridcore tracing chain`)."""
    from projections import contact_followup
    from projections.runner import Runner

    console = Console()
    system, reader = _open(by)
    app = system.app
    try:
        if scope is not None:
            app.node(scope)
            if not reader.sees(scope):
                raise GridcoreError(f"Node {scope} lies outside your jurisdiction.",
                                    "Give a node of your jurisdiction, or leave out --scope.")
        runner = Runner(app, [p for p in system.projections if p.name == "contact_followup"])
        runner.catch_up()
        under: str | list[str]
        if scope is not None:
            under = scope
        elif reader.caller is not None:
            under = list(reader.caller.jurisdictions)
        else:
            under = [r[0] for r in runner.views.query(
                "SELECT code FROM cf_nodes WHERE parent IS NULL ORDER BY code")]
        rows = contact_followup.cases_under(runner.views, under, app.clock(),
                                            limit=first) if under else []
    except GridcoreError as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        system.close()
    where = scope or ("、".join(under) if isinstance(under, list) else under)
    table = Table(title=f"流调病例 tracing cases · {escape(where)}", title_justify="left")
    for column in ("病例号 case", "状态 status", "节点 node", "开案 opened", "密接 close",
                   "次密接 secondary", "随访中 following", "聚集 cluster"):
        table.add_column(column, justify="right" if column[0] in "密次随聚" else "left",
                         no_wrap=True)
    from gridcore.tracing import CaseStatus

    for r in rows:
        table.add_row(escape(r.case_no), CaseStatus(r.status).label, r.scope,
                      f"{r.opened_at.astimezone(BEIJING):%Y-%m-%d %H:%M}", str(r.close),
                      str(r.secondary), str(r.following),
                      f"{r.cluster_cases} 例 cases · {r.cluster_size} 人 people")
    console.print(table if rows else f"no cases (无病例) at or below {escape(where)}")


def _contact_line(reader: Reader, case: Case, c: Contact) -> str:
    name = escape(reader.name(case, c.person_id, c.household_id, c.resident_id))
    where = ("登记居民 in the register" if c.resident_id is not None
             else "待确认匹配 proposed match" if c.proposal is not None
             else "待落地排查 to be located")
    became = ""
    if c.became_case is not None:
        became = f" → case {escape(reader.app.case(c.became_case).case_no)}"
    released = " · released 已解除" if c.released else ""
    until = c.until.astimezone(BEIJING)
    return (f"{name} · {c.kind.label} · {c.measure.label} until {until:%Y-%m-%d %H:%M} · "
            f"{where}{became}{released}")


@tracing_cli.command("chain")
def chain(
    case_no: Annotated[str, typer.Argument(help="The case's number (病例号).")],
    by: Annotated[str | None, typer.Option("--by", help=BY_HELP)] = None,
) -> None:
    """A case's chain as a tree: the cases it came from (generation −1, −2…), the case (0)
    with its close contacts (密接, generation 1) and each one's secondary contacts (次密接,
    generation 2), and the cases its contacts became."""
    console = Console()
    system, reader = _open(by)
    app = system.app
    try:
        try:
            case = app.case_by_no(case_no)
        except NotFound:
            raise NotFound(f"No case numbered {case_no}.",
                           "Check the number (`gridcore tracing cases` lists them).") from None
        if not reader.sees(case.scope):
            raise GridcoreError(f"Case {case_no} is followed up outside your jurisdiction.",
                                "Ask its node, or give a case of your jurisdiction.")
        links = [link for link in app.chain(case.id) if reader.sees(app.case(link.case_id).scope)]
        cases_of = {link.case_id: app.case(link.case_id) for link in links}
        index = reader.name(case, case.index_person_id, case.index_household_id,
                            case.index_resident_id)
        tree = Tree(f"[bold]流调链 chain of {escape(case.case_no)}[/] · {case.status.label} · "
                    f"index 指示病例 {escape(index)} · {case.scope}")
        for link in links:
            c = cases_of[link.case_id]
            who = escape(reader.name(c, c.index_person_id, c.index_household_id,
                                     c.index_resident_id))
            branch = tree.add(f"[bold]generation {link.generation:+d}[/] case "
                              f"{escape(link.case_no)} · {c.status.label} · {who}")
            by_generation = c.by_generation()
            for close in by_generation[Generation.CLOSE]:
                node = branch.add(f"密接 generation {link.generation + 1:+d}: "
                                  f"{_contact_line(reader, c, close)}")
                for second in by_generation[Generation.SECONDARY]:
                    if second.via == close.person_id:
                        node.add(f"次密接 generation {link.generation + 2:+d}: "
                                 f"{_contact_line(reader, c, second)}")
    except GridcoreError as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        system.close()
    console.print(tree)
