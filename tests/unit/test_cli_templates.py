"""Which institutions a template lists (issue 15): rectification and re-score templates
only the jurisdiction's cases under rectification, asked of decisions."""
import pytest

from services.cli.forms import RECTIFYING_ONLY, TEMPLATES, template_institutions
from services.cli.render import bad_input_lines
from shared.errors import BadInput

IN_SCOPE = [{"uscc": f"U{n}", "jurisdiction": "140100"} for n in range(4)]


class FakeCluster:
    def __init__(self, rectifying):
        self.rectifying = rectifying
        self.calls = []

    def call(self, service, method, *args):
        self.calls.append((service, method, args))
        if (service, method) == ("registry", "institutions"):
            return IN_SCOPE
        if (service, method) == ("decisions", "under_rectification"):
            return self.rectifying
        raise AssertionError(f"unexpected call {service}.{method}")


@pytest.mark.parametrize("kind", TEMPLATES)
def test_only_rectification_and_re_score_ask_for_the_cases_under_rectification(kind):
    cluster = FakeCluster(["U1", "U3", "U9"])
    listed = [i["uscc"] for i in template_institutions(cluster, kind, "140100")]
    if kind in RECTIFYING_ONLY:
        assert listed == ["U1", "U3"]
        assert ("decisions", "under_rectification", ("140100",)) in cluster.calls
    else:
        assert listed == [i["uscc"] for i in IN_SCOPE]
        assert all(c[0] == "registry" for c in cluster.calls)


def test_no_case_under_rectification_is_said_in_both_languages():
    with pytest.raises(BadInput) as refused:
        template_institutions(FakeCluster([]), "re-score", "140100")
    assert bad_input_lines(refused.value, "zh") == [
        "辖区 140100 没有处于整改期的机构，无需 re-score 模板"]
    assert "under rectification" in bad_input_lines(refused.value, "en")[0]
