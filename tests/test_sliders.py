"""The sliders of chapters 3 and 5 (vae_tutorial.book.sliders): what they show is the chapters' own maths.

The HTML: no script from another host, the arguments the sliders cannot show refused. In headless
Chromium, on a page that holds both outputs, at desktop and phone width: each slider is moved to
several values and the numbers it shows are compared with the chapters' Python (chapter 3: its
best_factorised q, variances 1 / (Sigma^-1)_dd, and torch.distributions' KL to the posterior;
chapter 5: vae_tutorial.losses.gaussian_kl); chapter 3's ellipses are compared with Sigma's
eigenvalues and q's variances. The same comparison catches each named wrong formula put into the
script. The arrow keys, Home and End move a slider; the picture fits the column; the console stays
clean; axe-core finds nothing serious; without JavaScript the output says so. Screenshots land in
_build/screenshots/.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from _browser import WIDTHS, axe_script, browser, chromium, screenshot  # noqa: F401 - browser is a fixture
from torch.distributions import MultivariateNormal, kl_divergence

from vae_tutorial.book import correlation_slider, kl_slider
from vae_tutorial.losses import gaussian_kl

SD = (1.0, 0.7)  # chapter 3's posterior: marginal standard deviations 1 and 0.7, mean (0.5, -0.3)
MEAN = (0.5, -0.3)
RHOS = (-0.95, -0.5, 0.0, 0.3, 0.9, 0.99)
MU_SIGMAS = ((0.0, 1.0), (1.0, 0.5), (-2.5, 2.0), (0.3, 0.2), (3.0, 3.0), (-0.75, 1.35))

# Named wrong formulas, each put into the script in place of the right line: the comparison must fail.
WRONG = {
    "q with the posterior's marginal variances": ("var v1 = 1 / l11, v2 = 1 / l22;", "var v1 = c11, v2 = c22;"),
    "the sign of log det Lambda flipped": ("- 2 - Math.log(l11 * l22", "- 2 + Math.log(l11 * l22"),
    "log sigma in place of log sigma^2": ("-0.5 * (1 + Math.log(variance) - mu * mu",
                                          "-0.5 * (1 + Math.log(sigma) - mu * mu"),
    "mu^2 with the wrong sign": ("-0.5 * (1 + Math.log(variance) - mu * mu", "-0.5 * (1 + Math.log(variance) + mu * mu"),
    "sigma in place of sigma^2 in the last term": ("- mu * mu - variance);", "- mu * mu - sigma);"),
}


def chapter_3(rho: float) -> dict:
    """Chapter 3's own computation at correlation rho: best_factorised, then torch's KL(q || p)."""
    sd = torch.tensor(SD, dtype=torch.float64)
    cov = torch.outer(sd, sd) * torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    mean = torch.tensor(MEAN, dtype=torch.float64)
    var = 1 / torch.linalg.inv(cov).diagonal()  # (2,): chapter 3's best_factorised
    gap = kl_divergence(MultivariateNormal(mean, torch.diag(var)), MultivariateNormal(mean, cov)).item()
    return {"gap": gap, "q_sd": var.sqrt().tolist(), "cov": cov}


def chapter_5(mu: float, sigma: float) -> float:
    """Chapter 5's gaussian_kl (eq. kl-gauss) for one dimension."""
    return gaussian_kl(torch.tensor([[mu]], dtype=torch.float64),
                       torch.tensor([[2 * math.log(sigma)]], dtype=torch.float64)).item()


def page(*outputs) -> str:
    body = "".join(output._repr_html_() for output in outputs)
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sliders</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f'<body><main><h1>Sliders</h1>{body}</main></body></html>')


def test_the_html_fetches_nothing_and_labels_its_sliders():
    for output in (correlation_slider(MEAN, SD, 0.9), kl_slider()):
        text = output._repr_html_()
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text), "a script, style or image from a file"
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
        assert '"aria-label": label' in text and '"for": id' in text  # each input named, and a visible label
        assert 'class="vae-slider-fallback"' in text
        assert "needs a browser" in repr(output)  # what a plain-text front end shows


def test_two_outputs_on_one_page_have_their_own_ids():
    first, second = correlation_slider(MEAN, SD, 0.9), correlation_slider(MEAN, SD, 0.9)
    assert first.id != second.id


@pytest.mark.parametrize("call, message", [
    (lambda: correlation_slider(MEAN, SD, 1.0), "rho should lie in"),
    (lambda: correlation_slider(MEAN, SD, float("nan")), "rho should lie in"),
    (lambda: correlation_slider(MEAN, (1.0, 0.0), 0.5), "should be positive"),
    (lambda: correlation_slider((0.0,), SD, 0.5), "mean should be 2 finite numbers"),
    (lambda: correlation_slider(MEAN, (1.0, float("inf")), 0.5), "sd should be 2 finite numbers"),
    (lambda: kl_slider(mu=4.0), "mu should lie in"),
    (lambda: kl_slider(sigma=0.1), "sigma should lie in"),
])
def test_what_a_slider_cannot_show_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_tensors_from_the_chapter_are_taken():
    output = correlation_slider(torch.tensor(MEAN, dtype=torch.float64), torch.tensor(SD), 0.9)
    assert output.spec == {"mean": list(MEAN), "sd": [1.0, pytest.approx(0.7)], "rho": 0.9}


def _open(browser, tmp_path, html: str, name: str = "sliders.html"):
    path = tmp_path / name
    path.write_text(html)
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.as_uri())
    roots = browser.find_elements("css selector", ".vae-slider")
    assert roots and all(browser.execute_script("return arguments[0].getAttribute('data-ready')", r) == "true"
                         for r in roots), "a slider did not start"
    return roots


def _numbers(text: str) -> list[float]:
    return [float(n.replace("\u2212", "-")) for n in re.findall(r"\u2212?\d+\.\d+", text)]


_MOVE = "return [arguments[0].vaeSlider.set(arguments[1], arguments[2]), arguments[0].vaeSlider.read(), " \
        "arguments[0].querySelector('.vae-slider-detail').textContent]"

_ELLIPSES = """
const root = arguments[0], side = Number(root.querySelector('svg rect').getAttribute('width'));
return {side: side, ellipses: Array.from(root.querySelectorAll('ellipse')).map(e =>
  [Number(e.getAttribute('rx')), Number(e.getAttribute('ry')), e.getAttribute('transform')])};
"""


def _mismatches(browser, roots) -> list[str]:
    """Where the numbers and ellipses shown differ from the chapters' Python (an empty list when none)."""
    wrong = []
    correlation, kl = roots
    for rho in RHOS:
        moved, shown, detail = browser.execute_script(_MOVE, correlation, "rho", rho)
        expected = chapter_3(rho)
        gap = _numbers(shown)[0]
        q_sd = _numbers(detail)[:2]
        if moved != rho or abs(gap - expected["gap"]) > 6e-4 or any(
                abs(a - b) > 6e-3 for a, b in zip(q_sd, expected["q_sd"])):
            wrong.append(f"rho {rho}: shows {shown!r}, {detail!r}; chapter 3 gives gap {expected['gap']:.4f}, "
                         f"q's sd {expected['q_sd']}")
        drawn = browser.execute_script(_ELLIPSES, correlation)
        per_unit = drawn["side"] / 5.6  # the plot spans 2.8 either side of the mean
        (p_rx, p_ry, turn), (q_rx, q_ry, _) = drawn["ellipses"][:2]  # at one standard deviation
        values, vectors = torch.linalg.eigh(expected["cov"])  # ascending
        angle = -math.degrees(math.atan2(vectors[1, 1].item(), vectors[0, 1].item()))  # the long axis, SVG's way
        angle_drawn = float(re.match(r"rotate\((\S+)", turn).group(1))
        off = (angle - angle_drawn + 90) % 180 - 90  # an axis has no direction
        if (abs(p_rx / per_unit - values[1].sqrt().item()) > 1e-6 or abs(p_ry / per_unit - values[0].sqrt().item()) > 1e-6
                or (abs(off) > 1e-6 and values[1] - values[0] > 1e-9)
                or abs(q_rx / per_unit - expected["q_sd"][0]) > 1e-6 or abs(q_ry / per_unit - expected["q_sd"][1]) > 1e-6):
            wrong.append(f"rho {rho}: ellipses {drawn['ellipses'][:2]} (unit {per_unit:.3f}) are not Sigma's "
                         f"({values.sqrt().tolist()}, {angle:.2f} degrees) and q's {expected['q_sd']}")
    for mu, sigma in MU_SIGMAS:
        browser.execute_script(_MOVE, kl, "mu", mu)
        moved, shown, detail = browser.execute_script(_MOVE, kl, "sigma", sigma)
        expected = chapter_5(mu, sigma)
        parts = _numbers(detail)[-2:]  # the mean's part and the width's part
        if moved != sigma or abs(_numbers(shown)[0] - expected) > 6e-4 or abs(sum(parts) - expected) > 1.2e-3:
            wrong.append(f"mu {mu}, sigma {sigma}: shows {shown!r} ({detail!r}); chapter 5 gives {expected:.4f}")
    return wrong


def test_the_numbers_shown_are_the_chapters(browser, tmp_path):
    roots = _open(browser, tmp_path, page(correlation_slider(MEAN, SD, 0.9), kl_slider()))
    assert _mismatches(browser, roots) == []
    severe = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], f"console errors: {severe}"


@pytest.mark.parametrize("name", list(WRONG))
def test_a_wrong_formula_in_the_script_is_caught(browser, tmp_path, name):
    right, wrong = WRONG[name]
    html = page(correlation_slider(MEAN, SD, 0.9), kl_slider())
    assert html.count(right) == 2, f"the script no longer holds {right!r}: update WRONG"  # once per output
    roots = _open(browser, tmp_path, html.replace(right, wrong), "wrong.html")
    assert _mismatches(browser, roots) != [], f"{name}: not caught"


def test_the_keyboard_moves_the_sliders(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    correlation, kl = _open(browser, tmp_path, page(correlation_slider(MEAN, SD, 0.9), kl_slider(1.0, 0.5)))
    rho = correlation.find_element("css selector", "input[type=range]")
    rho.send_keys(Keys.ARROW_RIGHT)
    assert rho.get_attribute("value") == "0.91" and "= 0.91" in correlation.text
    assert f"{chapter_3(0.91)['gap']:.3f} nats" in correlation.text
    rho.send_keys(Keys.HOME)
    assert rho.get_attribute("value") == "-0.99" and f"{chapter_3(-0.99)['gap']:.3f} nats" in correlation.text
    sigma = kl.find_elements("css selector", "input[type=range]")[1]
    sigma.send_keys(Keys.END)
    assert sigma.get_attribute("value") == "3" and f"{chapter_5(1.0, 3.0):.3f} nats" in kl.text
    assert sigma.get_attribute("aria-valuetext") == "standard deviation \u03c3 3.00"
    labels = [browser.execute_script("return arguments[0].labels[0].textContent", i)
              for i in kl.find_elements("css selector", "input[type=range]")]
    assert labels == ["mean \u03bc = 1.00", "standard deviation \u03c3 = 3.00"]


def test_the_sliders_fit_the_column_and_describe_their_picture(browser, tmp_path):
    roots = _open(browser, tmp_path, page(correlation_slider(MEAN, SD, 0.9), kl_slider()))
    for root in roots:
        fits = browser.execute_script(
            "const e = arguments[0], r = e.getBoundingClientRect();"
            "return [e.scrollWidth <= e.clientWidth + 1, r.right <= document.documentElement.clientWidth + 1];", root)
        assert fits == [True, True], f"a slider is wider than the page at {browser.width_name} width"
        label = root.find_element("css selector", "svg").get_attribute("aria-label")
        assert "nats" in label and len(label) > 100, label
    browser.execute_script(_MOVE, roots[0], "rho", -0.6)
    assert "upper left to lower right" in roots[0].find_element("css selector", "svg").get_attribute("aria-label")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", roots[0])
    browser.execute_script(_MOVE, roots[0], "rho", 0.9)
    screenshot(browser, f"sliders-{browser.width_name}.png")


def test_the_sliders_are_accessible(browser, tmp_path):
    script = axe_script()
    _open(browser, tmp_path, page(correlation_slider(MEAN, SD, 0.9), kl_slider()))
    browser.execute_script(script)
    found = browser.execute_async_script("""
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then(r => done(r.violations.map(v => [v.impact, v.id, v.help, v.nodes[0].html.slice(0, 120)])))
  .catch(e => done([["critical", "axe failed", String(e), ""]]));
""")
    assert [v for v in found if v[0] in ("critical", "serious")] == [], found


def test_without_javascript_the_output_says_so(tmp_path):
    driver = chromium(*WIDTHS["desktop"], javascript=False)
    try:
        path = tmp_path / "sliders.html"
        path.write_text(page(correlation_slider(MEAN, SD, 0.9), kl_slider()))
        driver.get(path.as_uri())
        text = driver.find_element("tag name", "body").text
        assert text.count("drawn by JavaScript in your browser, which has not run here (scripts are switched off") == 2
        assert not driver.find_elements("css selector", "input[type=range]"), "scripts ran: the test is not JS-free"
    finally:
        driver.quit()
