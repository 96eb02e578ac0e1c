"""The Bibliography page, written as plain MyST from references.bib, and the in-text citation form.

A `{cite}` role needs a citation processor: the site has one (sphinxcontrib-bibtex), JupyterLab has
none (jupyterlab-myst shows "⚠ kingma2014"). So the chapters cite with a plain link in author-year
form, `[Kingma and Welling, 2014](../book/bibliography.md)`, which both render, and the page it
points to is ordinary Markdown generated here from `book/references.bib`. A test keeps the page in
step with the .bib file and every citation's text in step with its entry.

Regenerate after editing references.bib:  python book/_ext/bibliography_page.py
"""

from __future__ import annotations

from pathlib import Path

from pybtex.database import parse_file
from pybtex.plugin import find_plugin

BOOK = Path(__file__).resolve().parents[1]
BIBFILE = BOOK / "references.bib"
PAGE = BOOK / "bibliography.md"

HEADER = """# Bibliography

The papers this book cites, with the chapter ideas they stand behind. The
chapters cite them by author and year, as each entry starts.

<!-- Generated from references.bib by book/_ext/bibliography_page.py: edit those, not this page. -->
"""


def surnames(entry) -> list[str]:
    """The authors' (or editors') surnames as text: braces and LaTeX accents decoded ("Sønderby")."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    return [" ".join(name.render_as("text") for name in person.rich_prelast_names + person.rich_last_names)
            for person in people]


def author_year(entry) -> str:
    """"Alemi et al., 2018", "Kingma and Welling, 2014", "Xiao, 2017": the form the text cites."""
    names = surnames(entry)
    if len(names) > 2:
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = names[0] if names else entry.key
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


def entries() -> dict:
    """The entries of references.bib by key."""
    return dict(parse_file(str(BIBFILE), "bibtex").entries)


def render_page() -> str:
    """The whole page: one paragraph per entry, sorted by author and year, labelled as cited."""
    style = find_plugin("pybtex.style.formatting", "unsrt")()
    markdown = find_plugin("pybtex.backends", "markdown")()
    by_key = entries()
    ordered = sorted(by_key.values(), key=lambda e: (surnames(e), e.fields.get("year", ""), e.key))
    formatted = {item.key: _one_line(item.text.render(markdown)) for item in style.format_entries(ordered)}
    lines = [HEADER]
    for entry in ordered:
        lines.append(f"**{author_year(entry)}.** {formatted[entry.key]}\n")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """pybtex's Markdown on one line, without the escapes that prose inside a line does not need."""
    for escaped in ("\\.", "\\(", "\\)", "\\-"):
        text = text.replace(escaped, escaped[-1])
    return " ".join(text.split())


if __name__ == "__main__":
    PAGE.write_text(render_page())
    print(f"wrote {PAGE}")
