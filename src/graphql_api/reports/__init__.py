"""Daily reports up the levels (日报 / 信息报送) through the API: a node's report for a period
(``dailyReport``, every version as submitted) and its children's completeness
(``reportCompleteness``), and the mutations that submit (a community's figures gathered
server-side from the read models as of the period's end, ``projections.reports``), correct,
return and approve one (``gridcore.report_commands``).

A node outside the caller's jurisdiction reads as missing: null for the queries,
``NotFoundProblem`` for a mutation. Who may give each command is the domain's rule: a node's
officials submit and correct its report; an official of the level above returns or approves
it."""
