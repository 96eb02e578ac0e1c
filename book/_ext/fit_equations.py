"""Display equations that fit the column: on a narrow screen a wide one is typeset smaller, never cut.

The chapters split long equations over several lines so that each fits the
desktop column. On a phone a few are still wider than the screen; after
MathJax has typeset the page, this script sets such an equation's font size so
that it fits (down to half size; below that it is left as it is, and the book's
browser test fails). Each equation it shrinks is marked with data-fitted, so
the test can tell a desktop page that needed it.
"""

from __future__ import annotations

SCRIPT = """
(function () {
  function fit() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (m) {
      m.style.fontSize = '';
      m.removeAttribute('data-fitted');
      var room = m.parentElement.clientWidth, need = m.scrollWidth;
      if (need > room + 1 && room / need >= 0.5) {
        m.style.fontSize = (100 * room / need).toFixed(1) + '%';
        m.setAttribute('data-fitted', (room / need).toFixed(2));
      }
    });
  }
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fit);
    } else { setTimeout(whenTypeset, 100); }
  }
  window.addEventListener('load', whenTypeset);
  window.addEventListener('resize', function () { clearTimeout(window.__fitTimer); window.__fitTimer = setTimeout(fit, 150); });
})();
"""


def setup(app):
    app.add_js_file(None, body=SCRIPT)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
