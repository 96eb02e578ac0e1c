"""Label the bibliography the way the text cites: [Kingma and Welling, 2014], not [KW14].

sphinxcontrib-bibtex writes in-text citations in author-year form
(`bibtex_reference_style: author_year`), but the list on the Bibliography page
takes its labels from the pybtex style, whose labels are alphabetic codes.
This registers a pybtex style whose labels are the same author-year text.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

STYLE = "author_year_labels"


def _surnames(entry) -> list[str]:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    return [" ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "") for person in people]


def author_year(entry) -> str:
    """"Alemi et al., 2018", "Kingma and Welling, 2014", "Xiao, 2017": the form the text cites."""
    names = _surnames(entry)
    if len(names) > 2:
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = names[0] if names else entry.key
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """pybtex label style: one author-year label per entry."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year(entry)


class AuthorYearStyle(UnsrtStyle):
    """The unsrt formatting, sorted by author and year, with author-year labels."""

    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.formatting", STYLE, AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
