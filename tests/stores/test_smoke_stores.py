"""The same application behaviour on every store."""

from gridcore.status import Measure
from tests.scenario import COMMUNITY, given_community


def test_a_second_application_reads_what_the_first_wrote(make_app, clock):
    first = make_app()
    c = given_community(first)
    rid = next(iter(first.household(c.households[0]).residents))
    first.change_measure(c.households[0], rid, Measure.HOME_QUARANTINE, c.worker, "密接")
    second = make_app()
    h = second.household(c.households[0])
    assert next(r.measure for r in h.residents.values()) is Measure.HOME_QUARANTINE
    assert second.node(COMMUNITY).children == [f"{COMMUNITY}-01", f"{COMMUNITY}-02"]
    assert next(iter(h.residents.values())).identity.name == "张三"
