"""The general dictionary (CC-CEDICT): English keywords find Chinese passages without a course lexicon."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from knowledge.answer import signals
from knowledge.dictionary import (
    cedict_path,
    edition,
    english_to_chinese,
    gloss_stems,
    read_entries,
)
from knowledge.embeddings import LocalE5Embeddings
from knowledge.index import KnowledgeIndex
from knowledge.lexicon import Lexicon
from knowledge.search import Retriever
from tests.knowledge.conftest import LOCAL_ID

SAMPLE = """\
# CC-CEDICT
#! version=1
#! date=2024-01-02T03:04:05Z
審批 审批 [shen3 pi1] /to examine and approve/to endorse/
導出 导出 [dao3 chu1] /to derive/to export (data)/
對照組 对照组 [dui4 zhao4 zu3] /control group/
批准 批准 [pi1 zhun3] /to approve/to ratify/
核准 核准 [he2 zhun3] /to authorize/to approve/
認可 认可 [ren4 ke3] /to approve/approval/acknowledgment/OK/
許可 许可 [xu3 ke3] /to allow/to permit/
王 王 [Wang2] /surname Wang/
王國 王国 [wang2 guo2] /kingdom/realm/
夏令 夏令 [xia4 ling4] /summer/summer weather/
㐅 乂 [yi4] /variant of 乂[yi4]/
長句 长句 [chang2 ju4] /a long explanation that is clearly not a translation of anything/
"""


def sample_dictionary(folder: Path, *, compressed: bool = True) -> Path:
    path = folder / ("cedict.txt.gz" if compressed else "cedict.txt")
    if compressed:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(SAMPLE)
    else:
        path.write_text(SAMPLE, encoding="utf-8")
    return path


def test_entries_and_edition_are_read_from_plain_and_compressed_files(tmp_path: Path) -> None:
    for compressed in (True, False):
        path = sample_dictionary(tmp_path, compressed=compressed)
        entries = dict(read_entries(path))
        assert entries["审批"] == ["to examine and approve", "to endorse"]
        assert "審批" not in entries  # keyed by the simplified headword
        assert edition(path) == "CC-CEDICT 2024-01-02T03:04:05Z"


def test_only_short_plain_glosses_count_as_translations() -> None:
    assert gloss_stems("to export (data)") == ["export"]
    assert gloss_stems("control group") == ["control", "group"]
    assert gloss_stems("surname Wang") == []
    assert gloss_stems("variant of 乂[yi4]") == []
    assert gloss_stems("a long explanation that is clearly not a translation of anything") == []


def test_table_keeps_passage_words_only_and_the_most_direct_translations_first(
    tmp_path: Path,
) -> None:
    path = sample_dictionary(tmp_path)
    vocabulary = ["审批", "导出", "对照组", "批准", "核准", "认可", "夏令", "王", "长句", "出口"]
    table = english_to_chinese(vocabulary, path)
    # One-word glosses ("to approve") before longer ones ("to examine and approve"); at most
    # three per English word; 许可 is not in any passage.
    assert table["approve"] == ["批准", "核准", "认可"]
    assert table["examine"] == ["审批"]
    assert table["export"] == ["导出"]
    assert table["control"] == ["对照组"] and table["group"] == ["对照组"]
    assert "wang" not in table and "kingdom" not in table  # surname; 王国 not in passages
    assert "explanation" not in table
    assert all("许可" not in words for words in table.values())


def test_course_translations_win_and_the_dictionary_fills_the_gaps() -> None:
    lexicon = Lexicon(
        translations={"en": {"churn": ["流失"]}, "zh": {}},
        dictionary={"churn": ["搅拌"], "approv": ["审批"], "export": ["导出"]},
    )
    assert lexicon.translate(["churn", "export"], "en") == ["流失", "导出"]
    assert lexicon.translate(["export"], "en", general=False) == []
    assert lexicon.translate(["导出"], "zh") == []  # English words only
    assert Lexicon.from_json(lexicon.to_json()) == lexicon


def test_the_bundled_dictionary_is_there_and_offline() -> None:
    path = cedict_path()
    assert path is not None and path.is_file()
    assert edition(path).startswith("CC-CEDICT 20")
    table = english_to_chinese(["对照组", "审批", "导出"], path)
    assert "对照组" in table["control"]
    assert "导出" in table["export"]


MATERIAL = """# 数据使用规范

## 导出

导出客户数据之前需要经理审批，审批记录保存在系统里。

## 召回

召回活动要留对照组，对照组的用户不发券。
"""


def ingested_rules(tmp_path: Path, e5: LocalE5Embeddings) -> tuple[Path, KnowledgeIndex]:
    """An index of one Chinese material, built without any parallel texts."""
    materials = tmp_path / "materials"
    materials.mkdir()
    (materials / "rules.md").write_text(MATERIAL, encoding="utf-8")
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    index.ingest(materials, progress=False)
    return materials, index


def test_english_question_finds_chinese_passage_without_any_parallel_texts(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    _, index = ingested_rules(tmp_path, e5)
    assert index.lexicon.translations == {"zh": {}, "en": {}}  # no course lexicon
    assert index.lexicon.dictionary_edition.startswith("CC-CEDICT")

    retriever = Retriever(index)
    question = "Do I need approval before I export data?"
    assert index.keyword(question, 5) == []  # English words alone cannot reach it
    evidence = retriever.evidence(question, 2, "bm25")
    assert "导出" in evidence.translations
    assert index.chunks[evidence.hits[0].chunk.id].section == "导出"
    control = retriever.evidence("Why keep a control group?", 2, "bm25")
    assert index.chunks[control.hits[0].chunk.id].section == "召回"

    # The abstention signals keep to the course's own translations (none here).
    assert signals(question, retriever.evidence(question, 2), index)["coverage"] == 0.0

    reopened = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    assert reopened.lexicon.dictionary == index.lexicon.dictionary


def test_dictionary_follows_the_materials_and_survives_remining(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    materials, index = ingested_rules(tmp_path, e5)
    assert "对照组" in index.lexicon.dictionary["control"]

    written = index.lexicon_path.stat().st_mtime_ns
    index.ingest(materials, progress=False)  # nothing changed: not rebuilt
    assert index.lexicon_path.stat().st_mtime_ns == written

    (materials / "rules.md").write_text("# 数据使用规范\n\n导出客户数据之前需要经理审批。\n")
    index.ingest(materials, progress=False)
    assert "control" not in index.lexicon.dictionary  # 对照组 left the passages
    assert "导出" in index.lexicon.dictionary["export"]

    course = tmp_path / "course"
    (course / "lessons").mkdir(parents=True)
    (course / "lessons" / "l1.zh.md").write_text("---\ntitle: 审批\n---\n导出需要审批。\n")
    (course / "lessons" / "l1.en.md").write_text(
        "---\ntitle: Approval\n---\nExports need approval.\n"
    )
    index.ingest(materials, parallel_dir=course, progress=False)
    assert index.lexicon.pairs > 0  # mined from the course…
    assert "导出" in index.lexicon.dictionary["export"]  # …and the dictionary kept


def test_an_index_from_before_the_dictionary_gets_it_when_warmed_up(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    _, index = ingested_rules(tmp_path, e5)
    old = Lexicon()  # what an older trainbot wrote: no dictionary part
    index.lexicon_path.write_text(json.dumps(old.to_json()), encoding="utf-8")

    reopened = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    assert reopened.lexicon.dictionary == {}
    reopened.warm_up()
    assert "导出" in reopened.lexicon.dictionary["export"]
    assert KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID).lexicon == reopened.lexicon
