"""A bilingual term lexicon mined from a course's parallel Chinese and English texts.

Most of the sample course's materials exist in Chinese only, so an English question meets
them through the dense vectors alone: BM25 cannot rank a passage that shares no word with
the question, and the lexical abstention signals cannot tell whether its terms are there.
The course's lessons and quiz questions, however, exist in both languages under the same
ids. Aligning them piece by piece (a lesson's lines, a question's prompt, options and
explanation, ``{zh: ..., en: ...}`` titles) gives a few hundred short sentence pairs, and
IBM Model 1 (expectation maximisation over word co-occurrence within the pairs) learns
from them which Chinese words an English word tends to translate to, and back.

Nothing here is specific to one course: any folder with ``<name>.zh.md``/``<name>.en.md``
pairs or YAML files holding parallel fields yields a lexicon; a folder with none yields an
empty one, and everything works as before.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.tokenize import chinese_words, english_stems, has_cjk

logger = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
ITERATIONS = 12
MIN_PROBABILITY = 0.15
"""A translation enters the lexicon when Model 1 gives it at least this probability."""
MIN_PAIRS = 2
"""…and when the two words occur together in at least this many pairs (no one-offs)."""
MAX_TRANSLATIONS = 3
_NULL = "\u0000"
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_MARKUP = re.compile(r"[*_`#>]+|^\s*(?:\d+[.)]|[-+])\s+", re.MULTILINE)


@dataclass
class Lexicon:
    """Translations of keyword tokens between Chinese and English.

    Attributes:
        translations: ``{"en": {stem: [chinese word, ...]}, "zh": {word: [stem, ...]}}``,
            best first, keyed by the language of the word being translated.
        sources: ``{relative path: [size, mtime_ns]}`` of the parallel files it was mined
            from, so that an unchanged course is not mined again.
        pairs: how many aligned text pairs it was mined from.
        dictionary: English stem → Chinese words from the general dictionary
            (:mod:`knowledge.dictionary`), limited to the words the indexed passages hold;
            consulted for the English words the parallel texts never use.
        dictionary_edition: which dictionary that table came from ("" when not built).
    """

    translations: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: {language: {} for language in LANGUAGES}
    )
    sources: dict[str, list[int]] = field(default_factory=dict)
    pairs: int = 0
    dictionary: dict[str, list[str]] = field(default_factory=dict)
    dictionary_edition: str = ""

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.translations.values()) + len(self.dictionary)

    def translate(
        self, words: Iterable[str], source_language: str, *, general: bool = True
    ) -> list[str]:
        """The other-language words for ``words`` (tokens of ``source_language``), deduplicated.

        The course's own translations come first; an English word they do not know is
        looked up in the general dictionary instead (its senses are many, the course's
        usage is one, so the course wins where it has an answer). ``general=False`` keeps
        to the course's translations.
        """
        table = self.translations.get(source_language, {})
        fallback = self.dictionary if source_language == "en" and general else {}
        seen: dict[str, None] = {}
        for word in words:
            for translation in table.get(word) or fallback.get(word) or []:
                seen.setdefault(translation, None)
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (see :meth:`from_json`)."""
        return {
            "translations": self.translations,
            "sources": self.sources,
            "pairs": self.pairs,
            "dictionary": self.dictionary,
            "dictionary_edition": self.dictionary_edition,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lexicon:
        """Read what :meth:`to_json` wrote."""
        translations = {language: {} for language in LANGUAGES} | data.get("translations", {})
        return cls(
            translations,
            dict(data.get("sources", {})),
            int(data.get("pairs", 0)),
            dict(data.get("dictionary", {})),
            str(data.get("dictionary_edition", "")),
        )

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """The lexicon stored at ``path``; an empty one when there is none."""
        if not path.is_file():
            return cls()
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def parallel_files(course_dir: Path) -> list[Path]:
    """The files parallel texts are read from: language-suffixed Markdown and YAML."""
    files = [
        path
        for path in course_dir.rglob("*")
        if path.is_file()
        and (path.suffix in (".yaml", ".yml") or _language_suffix(path) is not None)
    ]
    return sorted(files)


MINING_VERSION = 3
"""Bumped when mining changes (2: compounds dropped, :func:`_without_compounds`; 3:
regional variants left out), so a lexicon mined by an earlier trainbot is mined again at
the next ingest or bot start."""


def fingerprint(course_dir: Path) -> dict[str, list[int]]:
    """Size and modification time of every parallel file (cheap change detection), and the
    mining version."""
    result: dict[str, list[int]] = {"<mining>": [MINING_VERSION, 0]}
    for path in parallel_files(course_dir):
        stat = path.stat()
        result[path.relative_to(course_dir).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return result


def mine(course_dir: Path) -> Lexicon:
    """Mine a lexicon from the parallel texts under ``course_dir``."""
    pairs = list(parallel_pairs(course_dir))
    lexicon = Lexicon(sources=fingerprint(course_dir), pairs=len(pairs))
    tokenised = [(chinese_words(zh), english_stems(en)) for zh, en in pairs]
    tokenised = [(zh, en) for zh, en in tokenised if zh and en]
    lexicon.translations["en"] = _model_one([(en, zh) for zh, en in tokenised])
    lexicon.translations["zh"] = _model_one(tokenised)
    logger.info(
        "lexicon: %d entries from %d parallel pairs in %s", len(lexicon), len(pairs), course_dir
    )
    return lexicon


def parallel_pairs(course_dir: Path) -> Iterator[tuple[str, str]]:
    """Aligned ``(Chinese, English)`` text pairs found under ``course_dir``."""
    markdown: dict[tuple[Path, str], dict[str, Path]] = defaultdict(dict)
    for path in parallel_files(course_dir):
        language = _language_suffix(path)
        if language is not None:
            stem = path.name[: -len(f".{language}{path.suffix}")]
            markdown[(path.parent, stem)][language] = path
        else:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                logger.warning("lexicon: cannot read %s: %s", path, exc)
                continue
            yield from _yaml_pairs(data)
    for versions in markdown.values():
        if all(language in versions for language in LANGUAGES):
            yield from _markdown_pairs(
                versions["zh"].read_text(encoding="utf-8"),
                versions["en"].read_text(encoding="utf-8"),
            )


def _language_suffix(path: Path) -> str | None:
    """``zh`` or ``en`` for ``name.zh.md`` / ``name.en.md``, else ``None``."""
    if path.suffix not in (".md", ".markdown"):
        return None
    language = Path(path.stem).suffix.lstrip(".")
    return language if language in LANGUAGES else None


def _markdown_pairs(zh: str, en: str) -> Iterator[tuple[str, str]]:
    """Front-matter fields, and body lines when both versions have the same number."""
    zh_front, zh_body = _split_front_matter(zh)
    en_front, en_body = _split_front_matter(en)
    if any(isinstance(front, dict) and front.get("region") for front in (zh_front, en_front)):
        # A regional variant repeats most of its core lesson: mined too, its sentences
        # would count twice, and its local case would pull words toward it (seen: the
        # Kuala Lumpur case's "score 45" made "score" translate to 评分 alone, and the
        # managers' pass mark was no longer found).
        return
    yield from _aligned(zh_front, en_front)
    zh_lines = [line for line in zh_body.splitlines() if line.strip()]
    en_lines = [line for line in en_body.splitlines() if line.strip()]
    if len(zh_lines) == len(en_lines):
        for zh_line, en_line in zip(zh_lines, en_lines, strict=True):
            yield _MARKUP.sub(" ", zh_line).strip(), _MARKUP.sub(" ", en_line).strip()


def _split_front_matter(text: str) -> tuple[Any, str]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    try:
        return yaml.safe_load(match.group(1)), text[match.end() :]
    except yaml.YAMLError:
        return None, text[match.end() :]


def _yaml_pairs(data: Any) -> Iterator[tuple[str, str]]:
    """Parallel fields of a YAML document.

    Two shapes count: a mapping with ``zh`` and ``en`` texts, and a list of items that
    carry an ``id`` and a ``language``, where the items sharing an id are translations of
    each other (aligned field by field). Regional variants (a ``region``) and wording
    variants (a ``wording``, the same question asked another way) are left out.
    """
    if isinstance(data, dict):
        if isinstance(data.get("zh"), str) and isinstance(data.get("en"), str):
            yield data["zh"], data["en"]
        for value in data.values():
            yield from _yaml_pairs(value)
    elif isinstance(data, list):
        versions: dict[Any, dict[str, Any]] = defaultdict(dict)
        for item in data:
            if isinstance(item, dict) and (item.get("region") or item.get("wording")):
                continue  # a regional or wording variant: see _markdown_pairs
            if isinstance(item, dict) and "id" in item and item.get("language") in LANGUAGES:
                versions[item["id"]][item["language"]] = item
            else:
                yield from _yaml_pairs(item)
        for pair in versions.values():
            if all(language in pair for language in LANGUAGES):
                yield from _aligned(pair["zh"], pair["en"])


def _aligned(zh: Any, en: Any) -> Iterator[tuple[str, str]]:
    """Texts at the same place in two translations of one structure."""
    if isinstance(zh, str) and isinstance(en, str):
        if zh != en and has_cjk(zh) and not has_cjk(en):
            yield zh, en
    elif isinstance(zh, dict) and isinstance(en, dict):
        for key in zh.keys() & en.keys():
            yield from _aligned(zh[key], en[key])
    elif isinstance(zh, list) and isinstance(en, list) and len(zh) == len(en):
        for zh_item, en_item in zip(zh, en, strict=True):
            yield from _aligned(zh_item, en_item)


def _model_one(pairs: list[tuple[list[str], list[str]]]) -> dict[str, list[str]]:
    """IBM Model 1: which target words each source word translates to.

    ``pairs`` are ``(source words, target words)``. Model 1 explains every target word of
    a pair by one source word of the same pair (or by nothing, the NULL word) and learns
    the translation probabilities by expectation maximisation; unlike raw co-occurrence,
    a word that appears everywhere (用户, "user") does not become everyone's translation,
    because the words it really explains claim their share first.
    """
    together: dict[tuple[str, str], int] = defaultdict(int)
    for source, target in pairs:
        for pair in {(s, t) for s in source for t in target}:
            together[pair] += 1
    probability: dict[tuple[str, str], float] = {}
    targets_of: dict[str, set[str]] = defaultdict(set)
    for source_word, target_word in together:
        targets_of[source_word].add(target_word)
    for source_word, targets in targets_of.items():
        for target_word in targets:
            probability[(source_word, target_word)] = 1.0 / len(targets)
    for _ in range(ITERATIONS):
        counts: dict[tuple[str, str], float] = defaultdict(float)
        totals: dict[str, float] = defaultdict(float)
        for source, target in pairs:
            candidates = [*set(source), _NULL]
            for target_word in target:
                shares = [probability.get((s, target_word), 1e-3) for s in candidates]
                norm = sum(shares)
                for source_word, share in zip(candidates, shares, strict=True):
                    counts[(source_word, target_word)] += share / norm
                    totals[source_word] += share / norm
        probability = {pair: count / totals[pair[0]] for pair, count in counts.items()}
    table: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (source_word, target_word), value in probability.items():
        if (
            source_word != _NULL
            and value >= MIN_PROBABILITY
            and together[(source_word, target_word)] >= MIN_PAIRS
        ):
            table[source_word].append((value, target_word))
    return {
        word: _without_compounds(
            [target for _, target in sorted(options, key=lambda item: (-item[0], item[1]))]
        )[:MAX_TRANSLATIONS]
        for word, options in sorted(table.items())
    }


def _without_compounds(targets: list[str]) -> list[str]:
    """The Chinese translations of one word without those that hold another of them.

    A word met mostly inside one phrase also learns the phrase's compound: "rate" is
    aligned with 率 and, because "pass rate" is frequent in the course, with 通过率 too.
    The compound's other characters belong to the other word (pass → 通过), and searching
    with it pulls every "rate" question towards the pass rate, so it is dropped for 率.
    """
    return [
        target
        for target in targets
        if not (has_cjk(target) and any(other != target and other in target for other in targets))
    ]
