"""The read models' vulnerability years agree with the domain's rule for every year: a
household is vulnerable in a way in year Y exactly when ``since <= Y``."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from gridcore.household import Vulnerability, derived_vulnerabilities
from projections.vulnerable import vulnerable_since

members = st.lists(st.tuples(st.sets(st.sampled_from(list(Vulnerability))),
                             st.none() | st.integers(1900, 2020)), max_size=4)


@given(members=members, year=st.integers(1950, 2100))
def test_since_years_give_the_derived_vulnerabilities_of_any_year(
        members: list[tuple[set[Vulnerability], int | None]], year: int) -> None:
    since = vulnerable_since(({v.value for v in declared}, born) for declared, born in members)
    on = date(year, 7, 1)
    assert {kind for kind, first in since.items() if first <= year} == {
        v.value for declared, born in members
        for v in derived_vulnerabilities(born, declared, len(members), on)}
