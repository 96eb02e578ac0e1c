/* The book's sliders (sliders.py): a picture and a number computed in the reader's browser from the
 * chapters' closed forms, redrawn as a slider moves. The same output works on the static site (no
 * kernel) and in JupyterLab (no round trip to the kernel). No library, no request to another host.
 *
 * sliders.py puts this script after each <div class="vae-slider" data-kind=... data-spec=...> and
 * calls VAE_SLIDER(id) for it. Each slider element gets .vaeSlider = {set(name, value), read()},
 * which tests/test_sliders.py uses to move it and read what it shows.
 */
(function () {
  "use strict";
  if (window.VAE_SLIDER) { return; }
  var SVG = "http://www.w3.org/2000/svg";
  var BLUE = "#1f77b4", ORANGE = "#ff7f0e";  // matplotlib's C0 and C1, the chapters' colours

  function node(tag, attributes, text, namespace) {
    var element = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    if (text) { element.textContent = text; }
    return element;
  }
  function svg(tag, attributes, text) { return node(tag, attributes, text, SVG); }
  function fixed(value, digits) { return (value < 0 ? "\u2212" : "") + Math.abs(value).toFixed(digits); }

  // A labelled range input: the visible label says the value; the keyboard moves it (arrows, Page, Home, End).
  function slider(root, name, label, range, value, onChange) {
    var id = root.id + "-" + name;
    var box = node("div", {"class": "vae-slider-control"});
    var text = node("label", {"for": id});
    var shown = node("span", {"class": "vae-slider-value"});
    text.appendChild(document.createTextNode(label + " = "));
    text.appendChild(shown);
    var input = node("input", {"type": "range", "id": id, "name": name, "min": String(range[0]),
                               "max": String(range[1]), "step": String(range[2]), "value": String(value),
                               "aria-label": label,
                               // JupyterLab (Lumino) leaves keys pressed here to the slider: without this,
                               // an arrow key also moves the notebook's cell selection
                               "data-lm-suppress-shortcuts": "true"});
    function update() {
      var v = Number(input.value), digits = String(range[2]).split(".")[1] || "";
      shown.textContent = fixed(v, digits.length);
      input.setAttribute("aria-valuetext", label + " " + fixed(v, digits.length));
      onChange();
    }
    input.addEventListener("input", update);
    input.addEventListener("keydown", function (event) { event.stopPropagation(); });  // other notebook front ends
    box.appendChild(text);
    box.appendChild(input);
    return {box: box, input: input, update: update, value: function () { return Number(input.value); }};
  }

  function frame(width, height) {  // an SVG that scales to the column
    return svg("svg", {"viewBox": "0 0 " + width + " " + height, "role": "img", "class": "vae-slider-picture",
                       "style": "width: 100%; max-width: " + width + "px; height: auto; display: block;"});
  }

  function tick(picture, x1, y1, x2, y2, label, lx, ly, anchor) {
    picture.appendChild(svg("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": "currentColor"}));
    if (label !== null) {
      picture.appendChild(svg("text", {"x": lx, "y": ly, "text-anchor": anchor, "font-size": "11",
                                       "fill": "currentColor"}, label));
    }
  }

  function legend(entries) {  // HTML, so that its text is read and checked like the page's
    var list = node("ul", {"class": "vae-slider-legend"});
    entries.forEach(function (entry) {
      var item = node("li");
      item.appendChild(node("span", {"aria-hidden": "true", "style": "display: inline-block; width: 1.6em; " +
        "margin-right: 0.4em; vertical-align: middle; border-top: 3px " + entry[2] + " " + entry[0] + ";"}));
      item.appendChild(document.createTextNode(entry[1]));
      list.appendChild(item);
    });
    return list;
  }

  // Chapter 3: a 2-D Gaussian posterior N(m, Sigma) with correlation rho, and the best factorised q.
  function meanField(root, spec) {
    var pad = 34, edge = 10, side = 256, W = pad + side + edge, half = 2.8;  // z_d in m_d +- 2.8, as in Figure 3.1
    var picture = frame(W, W);
    var perUnit = side / (2 * half);
    function X(z1) { return pad + (z1 - spec.mean[0] + half) * perUnit; }
    function Y(z2) { return edge + (spec.mean[1] + half - z2) * perUnit; }
    picture.appendChild(svg("rect", {"x": pad, "y": edge, "width": side, "height": side, "fill": "none",
                                     "stroke": "currentColor"}));
    for (var t = Math.ceil(spec.mean[0] - half); t <= spec.mean[0] + half; t++) {
      tick(picture, X(t), edge + side, X(t), edge + side + 4, fixed(t, 0), X(t), edge + side + 16, "middle");
    }
    for (t = Math.ceil(spec.mean[1] - half); t <= spec.mean[1] + half; t++) {
      tick(picture, pad - 4, Y(t), pad, Y(t), fixed(t, 0), pad - 7, Y(t) + 4, "end");
    }
    picture.appendChild(svg("text", {"x": pad + side / 2, "y": W - 4, "text-anchor": "middle", "font-size": "12",
                                     "fill": "currentColor"}, "z1"));
    picture.appendChild(svg("text", {"x": 10, "y": edge + side / 2, "text-anchor": "middle", "font-size": "12",
                                     "fill": "currentColor", "transform": "rotate(-90 10 " + (edge + side / 2) + ")"},
                            "z2"));
    var clip = svg("clipPath", {"id": root.id + "-clip"});
    clip.appendChild(svg("rect", {"x": pad, "y": edge, "width": side, "height": side}));
    picture.appendChild(clip);
    var plot = svg("g", {"clip-path": "url(#" + root.id + "-clip)"});
    picture.appendChild(plot);
    var ellipses = [1, 2].map(function () {  // at 1 and 2 standard deviations, as in Figure 3.1
      var p = svg("ellipse", {"fill": "none", "stroke": BLUE, "stroke-width": "2"});
      var q = svg("ellipse", {"fill": "none", "stroke": ORANGE, "stroke-width": "2", "stroke-dasharray": "6 4"});
      plot.appendChild(p);
      plot.appendChild(q);
      return [p, q];
    });
    var cx = X(spec.mean[0]), cy = Y(spec.mean[1]);
    plot.appendChild(svg("path", {"d": "M" + (cx - 7) + " " + cy + "h14M" + cx + " " + (cy - 7) + "v14",
                                  "stroke": "currentColor", "stroke-width": "1.5"}));
    var readout = node("p", {"class": "vae-slider-readout", "aria-live": "polite"});
    var detail = node("p", {"class": "vae-slider-detail"});
    var control = slider(root, "rho", "correlation \u03c1", [-0.99, 0.99, 0.01], spec.rho, draw);

    function draw() {
      var rho = control.value(), s1 = spec.sd[0], s2 = spec.sd[1];
      var c11 = s1 * s1, c22 = s2 * s2, c12 = rho * s1 * s2, det = c11 * c22 - c12 * c12;
      var l11 = c22 / det, l22 = c11 / det, l12 = -c12 / det;  // the precision Lambda = Sigma^-1
      var v1 = 1 / l11, v2 = 1 / l22;  // (eq. mean-field-kl) optimum: sigma_d^2 = 1 / Lambda_dd, mu = m
      // (eq. mean-field-kl) at that optimum (its (mu - m) term is 0): the gap KL(q || p) in nats
      var gap = 0.5 * (l11 * v1 + l22 * v2 - Math.log(v1) - Math.log(v2) - 2 - Math.log(l11 * l22 - l12 * l12));
      var spread = Math.sqrt((c11 - c22) * (c11 - c22) / 4 + c12 * c12);
      var big = (c11 + c22) / 2 + spread, small = (c11 + c22) / 2 - spread;  // Sigma's eigenvalues
      var degrees = -90 / Math.PI * Math.atan2(2 * c12, c11 - c22);  // the long axis, turned (SVG's y points down)
      ellipses.forEach(function (pair, k) {
        var r = (k + 1) * perUnit;
        pair[0].setAttribute("cx", cx); pair[0].setAttribute("cy", cy);
        pair[0].setAttribute("rx", r * Math.sqrt(big)); pair[0].setAttribute("ry", r * Math.sqrt(small));
        pair[0].setAttribute("transform", "rotate(" + degrees + " " + cx + " " + cy + ")");
        pair[1].setAttribute("cx", cx); pair[1].setAttribute("cy", cy);
        pair[1].setAttribute("rx", r * Math.sqrt(v1)); pair[1].setAttribute("ry", r * Math.sqrt(v2));
      });
      readout.textContent = "Gap KL(q \u2016 p) = " + gap.toFixed(3) + " nats";
      detail.textContent = "Standard deviations: the best q's " + Math.sqrt(v1).toFixed(2) + " and " +
        Math.sqrt(v2).toFixed(2) + ", the posterior's marginal ones " + s1.toFixed(2) + " and " + s2.toFixed(2) + ".";
      var tilt = Math.abs(rho) < 0.005 ? "axis-aligned, not tilted" :
        "tilted from " + (rho > 0 ? "lower left to upper right" : "upper left to lower right");
      picture.setAttribute("aria-label", "Ellipses at one and two standard deviations over z1 and z2: the " +
        "posterior with correlation " + fixed(rho, 2) + ", " + tilt + " (solid blue), and the best factorised q, " +
        "axis-aligned with standard deviations " + Math.sqrt(v1).toFixed(2) + " and " + Math.sqrt(v2).toFixed(2) +
        " (dashed orange), both centred at the same mean. " + readout.textContent + ".");
    }
    root.appendChild(control.box);
    root.appendChild(picture);
    root.appendChild(legend([[BLUE, "posterior p(z | x)", "solid"], [ORANGE, "best factorised q(z)", "dashed"]]));
    root.appendChild(readout);
    root.appendChild(detail);
    control.update();
    return {controls: {rho: control}, readout: readout};
  }

  // Chapter 5: q = N(mu, sigma^2) against p = N(0, 1), and the closed-form KL (eq. kl-gauss-1d).
  function gaussianKl(root, spec) {
    var W = 320, H = 200, left = 34, right = 10, top = 10, bottom = 34, reach = 6, ceiling = 2;
    var picture = frame(W, H), width = W - left - right, height = H - top - bottom;
    function X(z) { return left + (z + reach) / (2 * reach) * width; }
    function Y(density) { return top + (1 - density / ceiling) * height; }
    picture.appendChild(svg("rect", {"x": left, "y": top, "width": width, "height": height, "fill": "none",
                                     "stroke": "currentColor"}));
    for (var t = -reach; t <= reach; t += 2) {
      tick(picture, X(t), top + height, X(t), top + height + 4, fixed(t, 0), X(t), top + height + 16, "middle");
    }
    [0, 1, 2].forEach(function (d) { tick(picture, left - 4, Y(d), left, Y(d), String(d), left - 7, Y(d) + 4, "end"); });
    picture.appendChild(svg("text", {"x": left + width / 2, "y": H - 4, "text-anchor": "middle", "font-size": "12",
                                     "fill": "currentColor"}, "z"));
    function curve(mu, sigma) {  // the density on 241 points, as an SVG path
      var points = [];
      for (var i = 0; i <= 240; i++) {
        var z = -reach + i * (2 * reach) / 240, u = (z - mu) / sigma;
        points.push(X(z).toFixed(1) + " " + Y(Math.exp(-0.5 * u * u) / (sigma * Math.sqrt(2 * Math.PI))).toFixed(1));
      }
      return "M" + points.join("L");
    }
    var q = svg("path", {"fill": ORANGE, "fill-opacity": "0.2", "stroke": ORANGE, "stroke-width": "2.5"});
    picture.appendChild(q);
    picture.appendChild(svg("path", {"d": curve(0, 1), "fill": "none", "stroke": BLUE, "stroke-width": "2"}));
    var readout = node("p", {"class": "vae-slider-readout", "aria-live": "polite"});
    var detail = node("p", {"class": "vae-slider-detail"});
    var controls = {
      mu: slider(root, "mu", "mean \u03bc", [-3, 3, 0.05], spec.mu, draw),
      sigma: slider(root, "sigma", "standard deviation \u03c3", [0.2, 3, 0.05], spec.sigma, draw),
    };

    function draw() {
      var mu = controls.mu.value(), sigma = controls.sigma.value(), variance = sigma * sigma;
      var kl = -0.5 * (1 + Math.log(variance) - mu * mu - variance);  // (eq. kl-gauss-1d)
      q.setAttribute("d", curve(mu, sigma) + "L" + X(reach) + " " + Y(0) + "L" + X(-reach) + " " + Y(0) + "Z");
      readout.textContent = "KL(q \u2016 p) = " + kl.toFixed(3) + " nats";
      detail.textContent = "Of which the mean's part \u03bc\u00b2/2 = " + (mu * mu / 2).toFixed(3) +
        " and the width's part (\u03c3\u00b2 \u2212 1 \u2212 log \u03c3\u00b2)/2 = " +
        ((variance - 1 - Math.log(variance)) / 2).toFixed(3) + ".";
      picture.setAttribute("aria-label", "Two bell curves over z from " + (-reach) + " to " + reach +
        ": the prior p = N(0, 1) (blue) and q with mean " + fixed(mu, 2) + " and standard deviation " +
        sigma.toFixed(2) + " (orange, shaded), " + (sigma < 1 ? "narrower and taller" : sigma > 1 ?
        "wider and flatter" : "as wide") + " than the prior. " + readout.textContent + ".");
    }
    root.appendChild(controls.mu.box);
    root.appendChild(controls.sigma.box);
    root.appendChild(picture);
    root.appendChild(legend([[BLUE, "prior p = N(0, 1)", "solid"], [ORANGE, "q = N(\u03bc, \u03c3\u00b2)", "solid"]]));
    root.appendChild(readout);
    root.appendChild(detail);
    controls.sigma.update();
    controls.mu.update();
    return {controls: controls, readout: readout};
  }

  var KINDS = {"mean-field": meanField, "gaussian-kl": gaussianKl};

  window.VAE_SLIDER = function (id) {
    var root = document.getElementById(id);
    if (!root || root.vaeSlider) { return; }
    root.querySelectorAll(".vae-slider-fallback").forEach(function (p) { p.remove(); });
    var built = KINDS[root.getAttribute("data-kind")](root, JSON.parse(root.getAttribute("data-spec")));
    root.vaeSlider = {
      set: function (name, value) {  // as a reader's move does: the value, then an input event
        var input = built.controls[name].input;
        input.value = String(value);
        input.dispatchEvent(new Event("input"));
        return Number(input.value);
      },
      read: function () { return built.readout.textContent; },
    };
    root.setAttribute("data-ready", "true");
  };
})();
