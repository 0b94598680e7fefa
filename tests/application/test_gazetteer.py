"""``adapters.gazetteer``: origin words read as divisions of China (cpca's tables), a word
naming several divisions or a country abroad (pycountry) said so and never guessed, cached, and
quiet; ``cpca`` still loads where setuptools no longer ships ``pkg_resources``."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from adapters.gazetteer import Division, Unresolved, look_up, resolve


@pytest.mark.parametrize(("word", "full_name", "adcode"), [
    ("黄冈", "湖北省黄冈市", "421100"), ("湖北黄冈", "湖北省黄冈市", "421100"),
    ("湖北省黄冈市", "湖北省黄冈市", "421100"), ("武汉市江岸区", "湖北省武汉市江岸区", "420102"),
    ("江岸", "湖北省武汉市江岸区", "420102"), ("云南", "云南省", "530000"),
    ("温州", "浙江省温州市", "330300"), ("浠水", "湖北省黄冈市浠水县", "421125"),
    ("黄冈市浠水县兰溪镇", "湖北省黄冈市浠水县", "421125"), ("仙桃", "湖北省仙桃市", "429004"),
    ("北京朝阳", "北京市朝阳区", "110105"), ("青岛市南区", "山东省青岛市市南区", "370202"),
    ("恩施", "湖北省恩施土家族苗族自治州", "422800"), ("长沙", "湖南省长沙市", "430100"),
    ("海南", "海南省", "460000"), ("新疆", "新疆维吾尔自治区", "650000"),
    ("武汉那边", "湖北省武汉市", "420100"), ("吉林长春", "吉林省长春市", "220100"),
])
def test_an_origin_reads_as_its_division(word: str, full_name: str, adcode: str) -> None:
    found = resolve(word)
    assert isinstance(found, Division) and (found.full_name, found.adcode) == (full_name, adcode)


def test_the_levels_of_a_division() -> None:
    assert look_up("浠水") == Division("湖北省", "黄冈市", "浠水县", "421125", "湖北省黄冈市浠水县")
    assert look_up("北京朝阳") == Division("北京市", None, "朝阳区", "110105", "北京市朝阳区")


@pytest.mark.parametrize(("word", "why", "candidates"), [
    ("吉林", "ambiguous", ("吉林省", "吉林省吉林市")),
    ("朝阳区", "ambiguous", ("北京市朝阳区", "吉林省长春市朝阳区")),
    ("美国", "overseas", ("United States",)), ("意大利", "overseas", ("Italy",)),
    ("汉口", "unknown", ()), ("老家", "unknown", ()), ("外地", "unknown", ()),
    ("武汉黄冈", "unknown", ()), ("", "unknown", ()),
])
def test_a_word_naming_no_one_division_says_why(word: str, why: str,
                                                candidates: tuple[str, ...]) -> None:
    assert look_up(word) == Unresolved(word, why, candidates)  # type: ignore[arg-type]
    assert resolve(word) is None


def test_looking_up_is_cached_and_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    look_up.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            look_up("湖北黄冈")
    assert look_up.cache_info().hits == 2
    assert capsys.readouterr() == ("", "")


def test_cpca_loads_without_pkg_resources() -> None:
    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name == 'pkg_resources':\n"
            "            raise ModuleNotFoundError(name=name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from adapters.gazetteer import resolve\n"
            "print(resolve('黄冈').full_name, 'pkg_resources' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "湖北省黄冈市 False"
