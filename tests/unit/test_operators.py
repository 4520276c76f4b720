"""属地管理 for reading (shared/operators.py): what every service's list and template RPCs
check before they answer."""
import pytest

from shared.errors import Refused
from shared.operators import Operator


@pytest.mark.parametrize("operator", [
    Operator("city-140100", "city", "140100"), Operator("province", "province", "140000"),
    Operator("center", "center", "140000"), Operator("auditor", "auditor", None)])
def test_a_city_reads_its_own_jurisdiction_and_the_province_any(operator):
    operator.require_reader_of("140100")


def test_a_city_may_not_read_another_citys_jurisdiction():
    with pytest.raises(Refused, match="属地管理") as refused:
        Operator("city-140200", "city", "140200").require_reader_of("140100")
    assert "city-140200" in refused.value.message and "140100" in refused.value.message
