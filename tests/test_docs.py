"""The README and docs/ stay short, self-contained and linked: no reference to the team's private notes,
no issue numbers, and every relative link (and its #anchor) leads to something in the repository.

Plain file reads: no database, no Django."""

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

FORBIDDEN = ["../shared", "SPEC.md", "DESIGN.md", "SPEC §"]
ISSUE_NUMBER = re.compile(r"\bissues?\s*#\s*\d+", re.IGNORECASE)
FENCED_CODE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
EXTERNAL = ("http://", "https://", "mailto:", "ftp://")


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def prose(text: str) -> str:
    """The text without code, where brackets and parentheses are not links."""
    return INLINE_CODE.sub("", FENCED_CODE.sub("", text))


def links(text: str) -> list[str]:
    text = prose(text)
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


def anchors(path: Path) -> set[str]:
    """The #anchors GitHub gives the headings of a markdown file."""
    found, seen = set(), {}
    for line in prose(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = heading_slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def heading_slug(heading: str) -> str:
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    heading = heading.replace("`", "").strip().lower()
    kept = "".join(
        char
        for char in heading
        if char in " -_" or unicodedata.category(char)[0] in "LN"  # letters and digits, any script
    )
    return kept.replace(" ", "-")


def test_the_docs_folder_has_pages():
    assert DOCS, "docs/*.md is empty"


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 150, f"README.md has {len(lines)} lines; move detail into docs/"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_no_reference_to_private_notes(path):
    text = path.read_text(encoding="utf-8")
    found = [word for word in FORBIDDEN if word in text]
    assert not found, f"{page_id(path)} mentions {found}: write the rule in the docs' own words"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_no_issue_numbers(path):
    found = ISSUE_NUMBER.findall(path.read_text(encoding="utf-8"))
    assert not found, f"{page_id(path)} cites {found}: say what the reader needs, not where it came from"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_every_relative_link_resolves(path):
    broken = []
    for target in links(path.read_text(encoding="utf-8")):
        if target.startswith(EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.is_relative_to(ROOT):
            broken.append(f"{target} (outside the repository)")
        elif not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no heading #{anchor} in {page_id(linked)})")
    assert not broken, f"{page_id(path)} has broken links: {broken}"


def test_the_readme_links_every_doc():
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for target in links(README.read_text(encoding="utf-8"))
        if not target.startswith(EXTERNAL)
    }
    missing = [page_id(doc) for doc in DOCS if doc.resolve() not in linked]
    assert not missing, f"README.md's 'Where to go next' does not link {missing}"


def test_the_link_checker_reads_links():
    """The checker itself: a link in prose counts, one in code does not, and anchors slug as on GitHub."""
    text = "See [rules](docs/rules.md#roles-and-permissions) and `[not](a-link.md)`.\n```\n[x](y.md)\n```\n"
    assert links(text) == ["docs/rules.md#roles-and-permissions"]
    assert heading_slug("Email pipeline (offers benchmark)") == "email-pipeline-offers-benchmark"
    assert heading_slug("Tenancy: two walls") == "tenancy-two-walls"
