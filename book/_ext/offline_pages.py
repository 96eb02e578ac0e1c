"""Pages that load nothing twice and nothing from another host.

Two fixes for what a browser console showed on every page of the built site:
sphinx-thebe's configuration script was included twice (its setup runs on an
event that fires more than once in a jupyter-book build, and the second copy
fails: "Identifier 'THEBE_JS_URL' has already been declared"), and a page with
a widget output asked a CDN for require.js and the widget manager, which a
static host offline cannot reach. The book shows widgets in JupyterLab only
(the site shows an animation instead), so the widget scripts are not needed.
"""

from __future__ import annotations


def _drop_widget_scripts(app, config) -> None:
    config.nb_ipywidgets_js = {}  # myst-nb: no require.js, no widget manager from a CDN


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of any scripts of a page that load the same file or run the same code."""
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", script) or "", getattr(script, "attributes", {}).get("body"))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"][:] = scripts  # in place: sphinx.ext.mathjax adds to this same list later


def setup(app):
    app.connect("config-inited", _drop_widget_scripts, priority=900)
    app.connect("html-page-context", _unique_scripts, priority=100)  # before a handler can end the event
    return {"parallel_read_safe": True, "parallel_write_safe": True}
