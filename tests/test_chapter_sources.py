"""The chapters' text, checked without running them: what renders the same on the site and in JupyterLab.

Fast checks of the MyST sources that keep the classes of problems the
browser tests found from coming back: code that scrolls sideways, roles that
JupyterLab cannot render, figures without a caption.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9]*.md"))
CODE_LINE = 79  # the content column shows about 86 monospace characters at 1400 px; PEP 8's 79 leaves room


@pytest.fixture(scope="module", params=CHAPTERS, ids=lambda path: path.name)
def chapter(request):
    return request.param, jupytext.read(request.param)


def test_code_lines_fit_the_column(chapter):
    path, notebook = chapter
    long = [(i, line) for cell in notebook.cells if cell.cell_type == "code"
            for i, line in enumerate(cell.source.splitlines()) if len(line) > CODE_LINE]
    assert long == [], f"{path.name}: code lines longer than {CODE_LINE} characters: {long[:3]}"


def test_prose_uses_what_jupyterlab_renders(chapter):
    """Numbers come from {eval} (glue does not render in JupyterLab); chapters link with markdown links."""
    path, notebook = chapter
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert not re.search(r"\{glue(:\w+)?\}", prose) and "myst_nb import glue" not in code, path.name
    assert "{doc}" not in prose, f"{path.name}: use [Title](file.md) links, which JupyterLab follows"
    names = set(re.findall(r"\{eval\}`([^`]*)`", prose))
    bad = [name for name in names if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)]
    assert bad == [], f"{path.name}: {{eval}} takes a variable name (the site's inline execution): {bad}"
    undefined = [name for name in names if not re.search(rf"\b{name}\b\s*(?:,[^=\n]*)?=", code)]
    assert undefined == [], f"{path.name}: {{eval}} names no code cell assigns: {undefined}"


def test_every_figure_has_a_numbered_caption_in_the_text(chapter):
    """A cell that draws is followed by its caption, "**Figure C.k.** ...", numbered in order.

    The caption is prose (a markdown cell), not cell metadata: jupyterlab-myst shows no caption kept
    in a code cell's metadata, and resolves no {numref}, so the site and JupyterLab show this text."""
    path, notebook = chapter
    number = int(path.name[:2])
    bare, found = [], []
    for before, cell in zip([None] + notebook.cells[:-1], notebook.cells):
        caption = re.match(r"\*\*Figure (\d+)\.(\d+)\.\*\* \S", cell.source)
        if cell.cell_type == "markdown" and caption:
            assert before is not None and before.cell_type == "code", f"{path.name}: {caption.group(0)} after no figure"
            found.append((int(caption.group(1)), int(caption.group(2))))
        draws = re.search(r"plt\.show\(\)|display\(fig|animation_html\(|LivePlot\(", before.source) if before else None
        if before is not None and before.cell_type == "code" and draws and not caption:
            bare.append(before.source.splitlines()[0][:60])
    assert bare == [], f"{path.name}: figures without a caption right after them: {bare}"
    assert found == [(number, k) for k in range(1, len(found) + 1)], f"{path.name}: figure numbers {found}"
    assert "mystnb" not in str([cell.metadata for cell in notebook.cells]), f"{path.name}: a caption in metadata"


def _figure_numbers(path: Path) -> set[str]:
    return set(re.findall(r"^\*\*Figure (\d+\.\d+)\.\*\*", path.read_text(), re.M))


def _equation_labels(path: Path) -> list[str]:
    return re.findall(r"^:label: *(\S+)", path.read_text(), re.M)


PAGES = sorted((ROOT / "book").glob("*.md"))


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda path: path.name)
def test_references_are_text_both_renderers_show(path):
    """No {cite}, {numref} or {eq} to another chapter (JupyterLab shows "⚠ label" for each): figure
    numbers as text that names an existing figure, citations and other chapters' equations as links."""
    text = path.read_text()
    assert not re.search(r"\{(cite(:\w+)?|numref|ref|bibliography)\}", text), f"{path.name}: a role JupyterLab cannot resolve"
    own = _equation_labels(path)
    foreign = [label for label in re.findall(r"\{eq\}`([^`]+)`", text) if label not in own]
    assert foreign == [], f"{path.name}: {{eq}} to equations of other chapters: {foreign}"
    figures = {number for chapter in CHAPTERS for number in _figure_numbers(chapter)}
    unknown = sorted(set(re.findall(r"Figures? (\d+\.\d+)", text)) - figures)
    assert unknown == [], f"{path.name}: references to figures that do not exist: {unknown}"
    for chapter_number, equation, target in re.findall(r"\[\((\d+)\.(\d+)\)\]\(([^)]+)\)", text):
        linked = (path.parent / target.split("#")[0]).resolve()  # no #anchor
        assert linked.is_file() and int(linked.name[:2]) == int(chapter_number), f"{path.name}: ({chapter_number}.{equation}) links to {target}"
        assert int(equation) <= len(_equation_labels(linked)), f"{path.name}: {target} has no equation {equation}"


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda path: path.name)
def test_citations_link_to_an_entry_of_the_bibliography_by_its_author_and_year(path):
    from bibliography_page import author_year, entries

    cited = {author_year(entry) for entry in entries().values()}
    textual = {f"{who} ({year})" for who, year in (label.rsplit(", ", 1) for label in cited)}
    links = re.findall(r"\[([^\]]+)\]\((?:\.\./book/)?bibliography\.md\)", path.read_text())
    unknown = [text for text in links if text not in cited | textual]
    assert unknown == [], f"{path.name}: citations that match no entry of references.bib: {unknown}"


def test_the_bibliography_page_is_generated_from_references_bib():
    from bibliography_page import PAGE, render_page

    assert PAGE.read_text() == render_page(), "run: python book/_ext/bibliography_page.py"


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda path: path.name)
def test_saving_unchanged_in_jupyterlab_writes_the_same_bytes(path):
    """What jupytext writes when JupyterLab saves the file, with the config beside it (jupytext.toml)."""
    from jupytext.config import load_jupytext_configuration_file

    config = load_jupytext_configuration_file(str(path.parent / "jupytext.toml"))
    text = path.read_text()
    notebook = jupytext.reads(text, fmt="md")
    written_as = notebook.metadata.get("jupytext", {}).get("text_representation", {}).get("format_name", "markdown")
    fmt = {"extension": ".md", "format_name": written_as, "notebook_metadata_filter": config.notebook_metadata_filter,
           "cell_metadata_filter": config.cell_metadata_filter}
    notebook.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                                "language": "python"})  # what JupyterLab's kernel sets
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "{eval}" in cell.source:
            cell.metadata["user_expressions"] = [{"expression": "x", "result": {"status": "ok"}}]
    assert jupytext.writes(notebook, fmt=fmt) == text, f"{path.name}: a save would rewrite it"


def test_solutions_are_closed_dropdowns(chapter):
    path, notebook = chapter
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    solutions = re.findall(r":::\{admonition\} Solutions?\n(:class: [^\n]*)", prose)
    assert solutions, f"{path.name} has no solutions block"
    assert all("dropdown" in options for options in solutions), f"{path.name}: solutions shown open"


def test_inline_math_closes_on_its_line(chapter):
    """jupyterlab-myst pairs a $ that ends a line with the next $ further on, and the text between
    becomes math (a {eq} role in it shows raw): an inline formula stays on one line."""
    path, notebook = chapter
    open_lines = [line for cell in notebook.cells if cell.cell_type == "markdown"
                  for line in cell.source.splitlines() if line.replace("$$", "").count("$") % 2]
    assert open_lines == [], f"{path.name}: inline math broken over lines: {open_lines[:3]}"


def test_jupyterlab_reaches_the_books_pages_from_the_notebooks_folder():
    """`jupyter lab notebooks` serves notebooks/ only: notebooks/book/ links each page of book/ (files,
    not the folder: a folder link would close a loop with book/notebooks that sphinx-external-toc's
    recursive glob follows without end), so the chapters' links to ../book/*.md open in JupyterLab."""
    served = ROOT / "notebooks" / "book"
    assert served.is_dir() and not served.is_symlink()
    for page in [*PAGES, ROOT / "book" / "jupytext.toml"]:
        link = served / page.name
        assert link.is_symlink() and link.resolve() == page.resolve(), f"notebooks/book/{page.name}"
    linked = {target for chapter in CHAPTERS for target in re.findall(r"\]\(\.\./book/([^)#]+)", chapter.read_text())}
    assert linked and all((served / name).is_file() for name in linked), linked


def _math(text: str) -> str:
    """The LaTeX of a MyST text: $...$, $$...$$, {math} blocks and unnumbered equation* displays."""
    blocks = re.findall(r"```\{math\}(.*?)```", text, re.S) + re.findall(UNNUMBERED, text, re.S)
    rest = re.sub(UNNUMBERED, "", re.sub(r"```\{math\}.*?```", "", text, flags=re.S), flags=re.S)
    inline = re.findall(r"\$\$(.*?)\$\$|\$([^$\n]+)\$", rest)
    return "\n".join(blocks + [a or b for a, b in inline])


UNNUMBERED = r"\\begin\{equation\*\}(.*?)\\end\{equation\*\}"


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda path: path.name)
def test_display_equations_are_numbered_only_where_labelled(path):
    """The site numbers a {math} block with a :label: (N.M) and no other display; jupyterlab-myst numbers
    every display it sees as an equation, except \\begin{equation*}. So an unlabelled display is an
    equation* block (the site renders it unnumbered too), never $$...$$, and every {math} block has a
    label: then JupyterLab's (M) in chapter N is the site's (N.M), and links "(N.M)" find that number."""
    text = path.read_text()
    displays = re.findall(r"(?m)^[ \t]*\$\$", text)
    assert displays == [], f"{path.name}: {len(displays)} $$ display(s): write \\begin{{equation*}} ... \\end{{equation*}}"
    unlabelled = [block[:60] for block in re.findall(r"```\{math\}\n(.*?)```", text, re.S) if ":label:" not in block]
    assert unlabelled == [], f"{path.name}: {{math}} blocks without a label: {unlabelled}"
    nested = [block[:60] for block in re.findall(UNNUMBERED, text, re.S) if re.search(r"\\label|\\tag|\$\$", block)]
    assert nested == [], f"{path.name}: an unnumbered display with a label, tag or $$: {nested}"


def _label_names_in_strings(notebook) -> list[str]:
    """Equation labels ("(mean-field-gap)") that a code cell's strings cite: text a reader never sees."""
    labels = {label for chapter in CHAPTERS for label in _equation_labels(chapter)}
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        strings = re.findall(r"([\"'])((?:(?!\1).)*)\1", cell.source)  # one-line string literals
        found += [name for _, string in strings for name in re.findall(r"(?<!\w)\(([a-z0-9-]+)\)", string) if name in labels]
    return found


def test_messages_cite_equation_numbers_not_labels(chapter):
    """An exercise check or an assert that names an equation names it as the reader sees it, "(3.5)"."""
    path, notebook = chapter
    assert _label_names_in_strings(notebook) == [], f"{path.name}: messages cite labels: {_label_names_in_strings(notebook)}"


def test_the_label_check_finds_a_label_in_a_message():
    from nbformat.v4 import new_code_cell, new_notebook

    label = _equation_labels(CHAPTERS[2])[0]
    wrong = new_notebook(cells=[new_code_cell(f'assert x, "check ({label}) again"')])
    right = new_notebook(cells=[new_code_cell(f'assert x, "check (3.1), not f({label})"  # eq. {label}')])
    assert _label_names_in_strings(wrong) == [label] and _label_names_in_strings(right) == []


NOTATION_CLASHES = {  # book/notation.md: one symbol per meaning; the clashes a reviewer found, kept from coming back
    "a logit written a (it is l)": r"\\operatorname\{sigmoid\}\(a[_)]|\\operatorname\{logit\}\b.*=\s*a\b",
    "the sigmoid written s or sigma (s is the Gaussian decoder's scale, sigma the encoder's)": r"\bs\((?:l|a|x)\b|\\sigma\((?:l|a)\b",
    "lambda outside the continuous Bernoulli (the free-bits floor is tau)": r"\\lambda",
    "epsilon written two ways (the noise is always varepsilon)": r"\\epsilon\b",
}


@pytest.mark.parametrize("clash", list(NOTATION_CLASHES))
def test_one_symbol_per_meaning(clash):
    found = []
    for path in CHAPTERS:
        if clash.startswith("lambda") and path.name.startswith("09_"):
            continue
        math = _math(path.read_text())
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(NOTATION_CLASHES[clash], math)]
    assert found == [], f"{clash}: {found[:5]}"


def test_the_notation_check_finds_a_clash():
    """The check can fail: a free-bits floor written lambda, and a sigmoid written s(l), are found."""
    assert re.search(NOTATION_CLASHES["lambda outside the continuous Bernoulli (the free-bits floor is tau)"],
                     _math(r"the floor $\lambda = 0.5$ nats"))
    assert re.search(NOTATION_CLASHES["the sigmoid written s or sigma (s is the Gaussian decoder's scale, sigma the "
                                      "encoder's)"], _math("```{math}\ns(l) = 1 / (1 + e^{-l})\n```"))


def _assigned(name: str, code: str) -> bool:
    """Whether code assigns name anywhere (a = ..., a, b = ..., for a in, def a, import ... as a, a += ...)."""
    pattern = (rf"(?m)(^|[\s,(])({name})\s*(,[^=\n]*)?(=|\+=)(?!=)|\bfor\s+[^:]*\b{name}\b[^:]*\bin\b"
               rf"|\bdef\s+{name}\b|\bas\s+{name}\b|^{name}\s*:")
    return re.search(pattern, code) is not None


def test_every_eval_names_a_value_computed_above_it(chapter):
    """The site evaluates {eval} as the chapter runs: a name assigned only in a later cell is a NameError there."""
    path, notebook = chapter
    code_so_far, late = "", []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            code_so_far += "\n" + cell.source
            continue
        late += [name for name in re.findall(r"\{eval\}`([A-Za-z_]\w*)`", cell.source) if not _assigned(name, code_so_far)]
    assert late == [], f"{path.name}: {{eval}} names not assigned in any cell above them: {late}"


def test_the_eval_order_check_finds_a_late_name():
    assert _assigned("share", "x = 1\nshare = f'{x:.0%}'") and _assigned("a", "a, b = 1, 2")
    assert not _assigned("share", "print(share)") and not _assigned("share", "if share == 1: pass")


# A reader's path: every chapter says up front what it answers and what the reader will be able to do,
# and ends its teaching (before the exercises) with "What to remember": 3 to 5 results, each pointing
# at the equation or figure that holds it.
PROMISE = "After this chapter you can"
REMEMBER = "## What to remember"


def _remember_items(text: str) -> list[str]:
    """The list items of the chapter's "What to remember" section (an item may wrap over lines)."""
    section = text.split(REMEMBER, 1)[1].split("\n## ", 1)[0] if REMEMBER in text else ""
    return [item.strip() for item in re.split(r"(?m)^(?:-|\d+\.) ", section)[1:]]


def _points_at_a_result(item: str, path: Path) -> bool:
    """An item names an equation of this chapter ({eq}), one of another chapter ([(C.k)](...)) or a figure."""
    own = _equation_labels(path)
    return (any(label in own for label in re.findall(r"\{eq\}`([^`]+)`", item))
            or re.search(r"\[\(\d+\.\d+\)\]\(", item) is not None
            or any(number in _figure_numbers(path) for number in re.findall(r"Figures? (\d+\.\d+)", item)))


def test_every_chapter_opens_with_what_the_reader_will_be_able_to_do(chapter):
    path, _ = chapter
    text = path.read_text()
    body = text.split("\n# ", 1)[1]
    opening = body.split("```{code-cell}", 1)[0]  # the title's prose, before the first cell
    assert PROMISE in opening, f"{path.name}: no '{PROMISE} ...' sentence before the first cell"


def test_every_chapter_ends_with_what_to_remember(chapter):
    path, _ = chapter
    text = path.read_text()
    assert REMEMBER in text, f"{path.name}: no '{REMEMBER}' section"
    if "## Exercises" in text:
        assert text.index(REMEMBER) < text.index("## Exercises"), f"{path.name}: what to remember comes after the exercises"
    items = _remember_items(text)
    assert 3 <= len(items) <= 5, f"{path.name}: {len(items)} items to remember (3 to 5)"
    bare = [item[:60] for item in items if not _points_at_a_result(item, path)]
    assert bare == [], f"{path.name}: items that name no equation or figure: {bare}"


def test_the_remember_check_rejects_an_item_without_a_result():
    path = CHAPTERS[0]
    assert not _points_at_a_result("The data are grey levels.", path)
    assert not _points_at_a_result("See Figure 99.1.", path)
    items = _remember_items("x\n## What to remember\n\n- one\n  wrapped\n- two\n\n## Exercises\n- not this")
    assert items == ["one\n  wrapped", "two"]


def _figure_cells(notebook) -> list[tuple[object, str]]:
    """(code cell, caption) for every figure: a code cell followed by its "**Figure C.k.**" caption."""
    return [(cell, after.source) for cell, after in zip(notebook.cells, notebook.cells[1:])
            if cell.cell_type == "code" and re.match(r"\*\*Figure \d+\.\d+\.\*\*", after.source)]


def _alt_problem(cell, caption: str) -> str | None:
    """Why a figure cell's alt text does not describe its picture (None when it does)."""
    alt = str(cell.metadata.get("alt", "")).strip()
    if len(alt) < 40:
        return f"alt text missing or too short to say what the figure shows: {alt!r}"
    if re.match(r"(Figure|Fig\.|Image|Plot)\b", alt) or alt in caption:
        return f"alt text should describe the picture, not name or repeat the caption: {alt[:50]!r}"
    if "animation_html(" in cell.source and not re.search(r"\balt=", cell.source):
        return "an animation needs alt= (its image is raw HTML, not a cell output image)"
    return None


def test_every_figure_has_alt_text_that_says_what_it_shows(chapter):
    """Read by a screen reader in place of the picture (book/_ext/alt_text.py puts it on the image)."""
    path, notebook = chapter
    problems = [f"{caption[:14]} {problem}" for cell, caption in _figure_cells(notebook)
                if (problem := _alt_problem(cell, caption))]
    assert problems == [], f"{path.name}: {problems}"


def test_the_alt_text_check_rejects_a_caption_number_and_a_missing_alt():
    from nbformat.v4 import new_code_cell

    caption = "**Figure 1.1.** Ten images."
    assert _alt_problem(new_code_cell("plt.show()"), caption)
    assert _alt_problem(new_code_cell("plt.show()", metadata={"alt": "Figure 1.1 of the chapter, a grid of images"}),
                        caption)
    good = {"alt": "A grid of ten grey images of clothes, one per class, on black"}
    assert _alt_problem(new_code_cell("plt.show()", metadata=good), caption) is None
    assert _alt_problem(new_code_cell("animation_html(frames)", metadata=good), caption)


ROUTES = ["A short route", "After the short route"]  # the landing page's sections that send readers to sections


def _short_route_sections(text: str, heading: str = "A short route") -> list[tuple[str, str]]:
    """(chapter file, quoted section title) for each section the landing page's route under `heading` names."""
    route = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    items = [item.split("\n\n", 1)[0] for item in re.split(r"(?m)^\d+\. ", route)[1:]]  # the item, not what follows
    return [(chapter, title) for item in items
            for chapter in re.findall(r"\]\(\.\./notebooks/(\d\d_\w+\.md)\)", item)[:1]
            for title in re.findall(r'"([^"]+)"', " ".join(item.split()))]


@pytest.mark.parametrize("heading", ROUTES)
def test_the_short_route_names_sections_that_exist(heading):
    """The landing page's routes send readers to sections by title: each must be a heading there."""
    sections = _short_route_sections((ROOT / "book" / "intro.md").read_text(), heading)
    assert len(sections) >= 3
    missing = [f"{chapter}: {title}" for chapter, title in sections
               if not re.search(rf"(?m)^#+ {re.escape(title)}$", (ROOT / "notebooks" / chapter).read_text())]
    assert missing == [], f"the route names sections that do not exist: {missing}"
    assert ("03_elbo.md", "No such section") not in sections  # the parser reads titles, not any quote
    assert _short_route_sections('## A short route\n\n1. [T](../notebooks/03_elbo.md): "No such section"\n') == \
        [("03_elbo.md", "No such section")]


def _prose_words(markdown: str) -> int:
    """Words of prose in chapter markdown: code cells, display maths and inline maths left out."""
    text = re.sub(r"```\{code-cell\}.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"```\{math\}.*?```|\$\$.*?\$\$|\\begin\{equation\*\}.*?\\end\{equation\*\}", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # a link's target is not read
    text = re.sub(r"\{eval\}`[^`]*`", "N", text)  # a computed number reads as one word
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'.,-]*", text))


def route_texts(intro: str, heading: str = "A short route") -> list[str]:
    """A route's texts, as the landing page says they are counted: each route chapter's opening (from its
    title to its first section) and the sections the route names (to the next section of the same level)."""
    texts, chapters = [], []
    for chapter, title in _short_route_sections(intro, heading):
        text = (ROOT / "notebooks" / chapter).read_text()
        if chapter not in chapters:
            chapters.append(chapter)
            texts.append(text.split("\n# ", 1)[1].split("\n## ", 1)[0])
        body = re.split(rf"(?m)^## {re.escape(title)}$", text, maxsplit=1)[1]
        texts.append(re.split(r"(?m)^## ", body, maxsplit=1)[0])
    return texts


def route_size(texts: list[str]) -> tuple[int, int, int, float]:
    """Words, displayed equations, figures, and the minutes the student's rule gives them (100 words a minute,
    1.5 minutes an equation, 2 a figure: the rule of the student who timed the first route)."""
    words = sum(_prose_words(t) for t in texts)
    # every displayed equation a reader meets: labelled ({math}, $$) or not (equation*, a second review)
    equations = sum(len(re.findall(r"^```\{math\}|^\\begin\{equation\*\}", t, flags=re.M))
                    + len(re.findall(r"^\$\$", t, flags=re.M)) // 2 for t in texts)  # $$ opens and closes
    figures = sum(len(re.findall(r"^\*\*Figure \d+\.\d+\.\*\*", t, flags=re.M)) for t in texts)
    return words, equations, figures, words / 100 + 1.5 * equations + 2 * figures


@pytest.mark.parametrize("heading", ROUTES)
def test_a_route_is_as_long_as_the_page_says(heading):
    """Each route on the landing page states its words, equations and figures as the rule counts them, and
    every "about N minutes" it promises is within 15% of the rule's minutes."""
    intro = (ROOT / "book" / "intro.md").read_text()
    words, equations, figures, minutes = route_size(route_texts(intro, heading))
    section = " ".join(intro.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0].split())
    stated = re.search(r"That is about ([\d,]+) words of prose, .*?(\d+) displayed equations? and (\d+) figures?",
                       section)
    assert stated, f"{heading}: the page should state the route's words, equations and figures"
    assert abs(int(stated.group(1).replace(",", "")) - words) <= 0.05 * words, (heading, stated.group(1), words)
    assert (int(stated.group(2)), int(stated.group(3))) == (equations, figures), (heading, equations, figures)
    promised = [int(m) for m in re.findall(r"about (\d+) minutes", section)]
    assert promised and all(abs(m - minutes) <= 0.15 * minutes for m in promised), (heading, promised, minutes)


def test_the_short_route_is_the_core_in_45_minutes():
    """Issue 30's target: the core idea in 45 minutes or less by the rule the page states."""
    assert route_size(route_texts((ROOT / "book" / "intro.md").read_text()))[3] <= 45
    assert _prose_words("A cat $x^2$ sat.\n```{code-cell} ipython3\nprint(1)\n```\n{eval}`n` times") == 5
    assert _prose_words("Say\n\\begin{equation*}\nx = 1\n\\end{equation*}\nit") == 2
    assert route_size(["\\begin{equation*}\nx\n\\end{equation*}\n$$\ny\n$$ (label)\n"])[1] == 2


EQUATION_LINK = re.compile(r"\[\((\d+)\.(\d+)\)\]\(([^)#\s]*?(\d\d)_\w+\.md)(#[^)\s]*)?\)")


def _equation_link_problems(text: str, labels: dict[str, list[str]]) -> list[str]:
    """Links "(N.M)" that do not name chapter N's file and, as its anchor, the site's id of its M-th
    labelled equation, equation-<label> (where the site and JupyterLab land)."""
    problems = []
    for link in EQUATION_LINK.finditer(text):
        number, ordinal, path, chapter, anchor = link.groups()
        name = Path(path).name
        known = labels.get(name, [])
        if int(number) != int(chapter) or not 0 < int(ordinal) <= len(known) \
                or anchor != f"#equation-{known[int(ordinal) - 1]}":
            problems.append(link.group(0))
    return problems


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda p: p.name)
def test_an_equation_link_lands_on_its_equation(path):
    labels = {chapter.name: re.findall(r"^:label: *(\S+)", chapter.read_text(), re.M) for chapter in CHAPTERS}
    assert _equation_link_problems(path.read_text(), labels) == []
    known = {"03_elbo.md": ["elbo-jensen", "elbo-gap", "elbo"]}
    assert _equation_link_problems("[(3.3)](03_elbo.md#equation-elbo)", known) == []
    assert _equation_link_problems("[(3.3)](03_elbo.md)", known)  # lands on the top of the chapter
    assert _equation_link_problems("[(3.2)](03_elbo.md#equation-elbo)", known)  # another equation
    assert _equation_link_problems("[(3.3)](../notebooks/03_elbo.md#elbo)", known)  # not the site's id


EQUATION_LINK_IN_PARENTHESES = r"\(\[\(\d+\.\d+\)\]\([^)]*\)|\(\{eq\}`[^`]*`"  # a link, or {eq} (rendered "(12.2)")


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda path: path.name)
def test_no_equation_link_inside_parentheses(path):
    """An equation link shows its number in parentheses, "(1.3)": inside another pair it reads "((1.3)"."""
    doubled = re.findall(EQUATION_LINK_IN_PARENTHESES, path.read_text())
    assert doubled == [], f"{path.name}: an equation link inside parentheses: {doubled}"


def test_the_parentheses_check_finds_the_case_that_slipped_through():
    """Chapter 8 had it: "(the floor [(1.3)](01_data.md) of ...)"; a link in running text passes."""
    assert re.findall(EQUATION_LINK_IN_PARENTHESES, "go below ([(1.3)](01_data.md) of")
    assert not re.findall(EQUATION_LINK_IN_PARENTHESES, "go below, [(1.3)](01_data.md) in")
    assert re.findall(EQUATION_LINK_IN_PARENTHESES, "a mixture ({eq}`mixture-prior`), and")  # chapter 12 had it
    assert not re.findall(EQUATION_LINK_IN_PARENTHESES, "a mixture as in {eq}`mixture-prior`, and")


PACKAGE_IMPORT = re.compile(r"^\s*from vae_tutorial\.([\w.]+) import (\([^)]*\)|[^\n]*)", re.M)


def _package_imports(source: str) -> list[tuple[str, list[str]]]:
    """(module, names) of every `from vae_tutorial.<module> import ...` in a chapter's code."""
    return [(module, [name for name in re.split(r"[,\s()]+", names.split("#")[0]) if name])
            for module, names in PACKAGE_IMPORT.findall(source)]


def _import_problems(imports: list[tuple[str, list[str]]]) -> list[str]:
    """A chapter imports the book's face or a maths module at the package's top, and only names they have."""
    import importlib

    problems = []
    for module, names in imports:
        if "." in module or module in ("runs", "cli"):
            problems.append(f"vae_tutorial.{module}: import the chapter helpers from vae_tutorial.book")
            continue
        loaded = importlib.import_module(f"vae_tutorial.{module}")
        problems += [f"vae_tutorial.{module} has no {name}" for name in names if not hasattr(loaded, name)]
    return problems


def test_chapters_import_the_book_face_and_the_maths_by_name(chapter):
    path, notebook = chapter
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    imports = _package_imports(source)
    assert imports, f"{path.name} imports nothing from the package"
    assert _import_problems(imports) == [], path.name


def test_the_import_check_rejects_a_room_and_a_missing_name():
    imports = _package_imports("from vae_tutorial.runs.cache import cached_fit\n"
                               "from vae_tutorial.book import (\n    show_images, no_such_helper)\n"
                               "from vae_tutorial.losses import gaussian_kl  # the closed form\n")
    assert imports[2] == ("losses", ["gaussian_kl"])
    assert _import_problems(imports) == [
        "vae_tutorial.runs.cache: import the chapter helpers from vae_tutorial.book",
        "vae_tutorial.book has no no_such_helper"]


# The reading path apart from the verification (issue 30): in every chapter, every cell that asserts is a
# folded check cell that ends by saying what it checked (a new chapter is held to it from its first line).
FOLDED_CHECKS = [path.name for path in CHAPTERS]


def _asserts(source: str) -> bool:
    """Whether code asserts: an assert statement or a torch.testing / numpy.testing assert_* call."""
    import ast

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name.startswith("assert_"):
                return True
    return False


def _check_cell_problems(cells) -> list[str]:
    """What keeps a chapter's checks off its reading path: folded on the site and in JupyterLab, one line shown."""
    import ast

    problems = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or "with exercise(" in cell.source or "class Reference" in cell.source:
            continue  # the exercises' own checks are the reader's to run
        tags = cell.metadata.get("tags", [])
        folded = cell.metadata.get("jupyter", {}).get("source_hidden") is True
        body = ast.parse(cell.source).body
        says = bool(body) and isinstance(body[-1], ast.Expr) and isinstance(body[-1].value, ast.Call) \
            and getattr(body[-1].value.func, "id", "") == "checked"
        if _asserts(cell.source):
            if "remove-cell" in tags and folded:
                continue  # kept out of the page altogether
            if not ("hide-input" in tags and folded):
                problems.append(f"cell {index}: asserts on the reading path (tag it hide-input and fold it)")
            if not says:
                problems.append(f"cell {index}: a check cell must end with checked('what held')")
        elif says:
            problems.append(f"cell {index}: says checked() but asserts nothing")
    return problems


@pytest.mark.parametrize("name", FOLDED_CHECKS)
def test_checks_are_folded_and_say_what_held(name):
    assert _check_cell_problems(jupytext.read(ROOT / "notebooks" / name).cells) == []


def test_the_folded_check_rule_rejects_an_assert_in_sight_and_a_silent_check():
    import nbformat

    fold = {"tags": ["hide-input"], "jupyter": {"source_hidden": True}}
    cells = [nbformat.v4.new_code_cell("x = 1\nassert x == 1"),  # on the reading path
             nbformat.v4.new_code_cell("torch.testing.assert_close(a, b)", metadata=fold),  # says nothing
             nbformat.v4.new_code_cell("checked('x is 1')"),  # claims a check it does not make
             nbformat.v4.new_code_cell("assert x == 1\nchecked('x is 1')", metadata=fold),  # right
             nbformat.v4.new_code_cell("with exercise(1):\n    assert answer == 2")]  # the reader's own
    assert _check_cell_problems(cells) == [
        "cell 0: asserts on the reading path (tag it hide-input and fold it)",
        "cell 0: a check cell must end with checked('what held')",
        "cell 1: a check cell must end with checked('what held')",
        "cell 2: says checked() but asserts nothing"]


def _apostrophes_in_computed_text(cells) -> list[str]:
    """String pieces with an apostrophe that can reach an {eval}: the site sets it as a typographic quote
    and JupyterLab does not, so the two would show different sentences (the names an {eval} uses, and the
    names their assignments use in turn, followed through the chapter's code)."""
    import ast

    evals = {name for cell in cells if cell.cell_type == "markdown"
             for name in re.findall(r"\{eval\}`(\w+)`", cell.source)}
    values: dict[str, list[ast.AST]] = {}
    for cell in cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            values.setdefault(name.id, []).append(node.value)
    seen, todo, found = set(), list(evals), []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for value in values.get(name, []):
            for node in ast.walk(value):
                if isinstance(node, ast.Name):
                    todo.append(node.id)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"\w['\u2019]\w",
                                                                                                 node.value):
                    found.append(f"{name}: {node.value!r}")
    return sorted(found)


def test_computed_sentences_have_no_apostrophe(chapter):
    path, notebook = chapter
    assert _apostrophes_in_computed_text(notebook.cells) == [], path.name


def test_the_apostrophe_check_follows_a_sentence_to_its_parts():
    import nbformat

    cells = [nbformat.v4.new_code_cell("reach = 'at the usual steps' if ok else \"at Adam's largest steps\"\n"
                                       "text = f'too few to arrive {reach}'\nlabel = \"the model's\""),
             nbformat.v4.new_markdown_cell("It is {eval}`text`.")]
    assert _apostrophes_in_computed_text(cells) == ["reach: \"at Adam's largest steps\""]
