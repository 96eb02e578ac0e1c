/* The latent explorer of the static site: a chapter's trained decoder, run in the reader's browser.
 *
 * The book build exports the decoder beside the page as NAME.js, a script that registers
 * {layers, codes, labels, ...} in window.VAE_EXPLORER_MODELS (vae_tutorial/site_explorer.py).
 * For each <div class="vae-explorer" data-model="NAME" data-weights="NAME.js"> this module loads
 * that script, then draws the codes of the test images on a plane; dragging the point (mouse,
 * touch or pen) or moving it with the arrow keys decodes z at once:
 *   l = W2 relu(W1 z + b1) + b2,  pixel = round(255 * sigmoid(l)),
 * the Bernoulli means of the chapter's decoder, drawn on a 28 x 28 canvas.
 * No library, no request to another host. Each explorer element gets .vaeExplorer = {setZ, getZ,
 * image}, which the book's browser test uses to compare the pixels with PyTorch's.
 */
(function () {
  "use strict";

  // matplotlib's tab10, the colours of the chapter's scatter plot (Figure 8.2)
  var COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var STEP = 0.1, BIG_STEP = 0.5;  // arrow keys, and with Shift

  function bytesOf(base64) {
    var text = atob(base64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return bytes;
  }

  function float16s(base64) {  // little-endian IEEE half floats -> Float64Array
    var bytes = bytesOf(base64), out = new Float64Array(bytes.length / 2);
    for (var i = 0; i < out.length; i++) {
      var h = bytes[2 * i] | (bytes[2 * i + 1] << 8);
      var sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
      if (exponent === 0) { out[i] = sign * fraction * Math.pow(2, -24); }
      else if (exponent === 31) { out[i] = fraction ? NaN : sign * Infinity; }
      else { out[i] = sign * (1 + fraction / 1024) * Math.pow(2, exponent - 15); }
    }
    return out;
  }

  function Decoder(spec) {
    this.layers = spec.layers.map(function (layer) {
      return {inputs: layer["in"], outputs: layer.out, weight: float16s(layer.weight), bias: float16s(layer.bias)};
    });
  }

  // z (2 numbers) -> Bernoulli means, one per pixel: ReLU between layers, sigmoid after the last
  Decoder.prototype.decode = function (z) {
    var x = z;
    for (var k = 0; k < this.layers.length; k++) {
      var layer = this.layers[k], y = new Float64Array(layer.outputs), last = k === this.layers.length - 1;
      for (var o = 0; o < layer.outputs; o++) {
        var sum = layer.bias[o], row = o * layer.inputs;
        for (var i = 0; i < layer.inputs; i++) { sum += layer.weight[row + i] * x[i]; }
        y[o] = last ? 1 / (1 + Math.exp(-sum)) : Math.max(sum, 0);
      }
      x = y;
    }
    return x;
  };

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function signed(value) { return (value < 0 ? "\u2212" : "+") + Math.abs(value).toFixed(2); }

  function build(root, spec) {
    var decoder = new Decoder(spec);
    var height = spec.image_shape[0], width = spec.image_shape[1], limit = spec.limit;
    var z = [0, 0];

    root.querySelectorAll(".vae-explorer-fallback").forEach(function (p) { p.remove(); });
    var body = element("div", {"class": "vae-explorer-body"});
    var planeBox = element("div", {
      "class": "vae-explorer-plane", "tabindex": "0", "role": "application",
      "aria-roledescription": "latent plane",
      "aria-label": "Latent plane from " + (-limit) + " to " + limit + " in z1 and z2: drag the point, " +
                    "or use the arrow keys (Shift for bigger steps, Home for the origin)"});
    var plane = element("canvas", {"aria-hidden": "true"});
    planeBox.appendChild(plane);
    var side = element("div", {"class": "vae-explorer-side"});
    var image = element("canvas", {"class": "vae-explorer-image", "width": String(width), "height": String(height),
                                   "role": "img"});
    image.getContext("2d", {willReadFrequently: true});  // the browser test reads the pixels back
    var readout = element("p", {"class": "vae-explorer-readout", "aria-live": "polite"});
    var legend = element("ul", {"class": "vae-explorer-legend", "aria-label": "Colours of the classes"});
    spec.class_names.forEach(function (name, c) {
      var item = element("li");
      item.appendChild(element("span", {"class": "vae-explorer-swatch", "style": "background:" + COLOURS[c % 10],
                                        "aria-hidden": "true"}));
      item.appendChild(document.createTextNode(name));
      legend.appendChild(item);
    });
    side.appendChild(image);
    side.appendChild(readout);
    side.appendChild(legend);
    body.appendChild(planeBox);
    body.appendChild(side);
    root.appendChild(body);

    var backdrop = null;  // the scatter, drawn once per size
    function pixelsPerUnit() { return plane.width / (2 * limit); }
    function toCanvas(point) {
      return [(point[0] + limit) * pixelsPerUnit(), (limit - point[1]) * pixelsPerUnit()];
    }
    function drawBackdrop() {
      var size = Math.round(planeBox.clientWidth * (window.devicePixelRatio || 1)) || 320;
      plane.width = plane.height = size;
      var g = plane.getContext("2d", {willReadFrequently: true});  // the backdrop is read back once per size
      g.fillStyle = "#ffffff";
      g.fillRect(0, 0, size, size);
      g.strokeStyle = "#d0d0d0";
      g.lineWidth = 1;
      for (var tick = Math.ceil(-limit); tick <= limit; tick++) {  // a line at every whole number
        var at = toCanvas([tick, tick]);
        g.beginPath(); g.moveTo(at[0], 0); g.lineTo(at[0], size); g.stroke();
        g.beginPath(); g.moveTo(0, at[1]); g.lineTo(size, at[1]); g.stroke();
      }
      var origin = toCanvas([0, 0]);  // the axes through the prior mean, darker
      g.strokeStyle = "#909090";
      g.beginPath(); g.moveTo(origin[0], 0); g.lineTo(origin[0], size); g.stroke();
      g.beginPath(); g.moveTo(0, origin[1]); g.lineTo(size, origin[1]); g.stroke();
      g.globalAlpha = 0.55;
      var radius = Math.max(1, size / 220);
      spec.codes.forEach(function (code, i) {
        var at = toCanvas(code);
        g.fillStyle = COLOURS[spec.labels[i] % 10];
        g.fillRect(at[0] - radius, at[1] - radius, 2 * radius, 2 * radius);
      });
      g.globalAlpha = 1;
      g.fillStyle = "#333333";
      g.font = Math.round(size / 26) + "px sans-serif";
      g.fillText("z1 \u2192", size - size / 8, size - size / 40);
      g.fillText("z2 \u2191", size / 60, size / 22);
      backdrop = g.getImageData(0, 0, size, size);
    }

    function nearestClass(point) {
      var best = -1, bestDistance = Infinity;
      spec.codes.forEach(function (code, i) {
        var d = (code[0] - point[0]) * (code[0] - point[0]) + (code[1] - point[1]) * (code[1] - point[1]);
        if (d < bestDistance) { bestDistance = d; best = i; }
      });
      return best < 0 ? "" : spec.class_names[spec.labels[best]];
    }

    function draw() {
      if (!backdrop || backdrop.width !== Math.round(planeBox.clientWidth * (window.devicePixelRatio || 1))) {
        drawBackdrop();
      }
      var g = plane.getContext("2d");
      g.putImageData(backdrop, 0, 0);
      var at = toCanvas(z), size = plane.width / 45;
      g.beginPath();
      g.arc(at[0], at[1], size, 0, 2 * Math.PI);
      g.fillStyle = "#ffffff"; g.fill();
      g.lineWidth = Math.max(2, size / 3); g.strokeStyle = "#000000"; g.stroke();

      var means = decoder.decode(z), pixels = image.getContext("2d").createImageData(width, height);
      for (var p = 0; p < width * height; p++) {
        var grey = Math.round(255 * means[p]);
        pixels.data[4 * p] = pixels.data[4 * p + 1] = pixels.data[4 * p + 2] = grey;
        pixels.data[4 * p + 3] = 255;
      }
      image.getContext("2d").putImageData(pixels, 0, 0);
      var where = "z = (" + signed(z[0]) + ", " + signed(z[1]) + ")";
      var near = nearestClass(z);
      image.setAttribute("aria-label", "The decoder's mean image at " + where);
      readout.textContent = where + (near ? "; nearest test code: " + near : "");
    }

    function setZ(point) {
      z = [Math.max(-limit, Math.min(limit, point[0])), Math.max(-limit, Math.min(limit, point[1]))];
      draw();
    }

    function fromPointer(event) {
      var box = plane.getBoundingClientRect(), scale = 2 * limit / box.width;
      setZ([(event.clientX - box.left) * scale - limit, limit - (event.clientY - box.top) * scale]);
    }
    var dragging = false;
    plane.addEventListener("pointerdown", function (event) {
      dragging = true;
      plane.setPointerCapture(event.pointerId);
      planeBox.focus({preventScroll: true});
      fromPointer(event);
      event.preventDefault();
    });
    plane.addEventListener("pointermove", function (event) { if (dragging) { fromPointer(event); } });
    plane.addEventListener("pointerup", function () { dragging = false; });
    plane.addEventListener("pointercancel", function () { dragging = false; });
    planeBox.addEventListener("keydown", function (event) {
      var step = event.shiftKey ? BIG_STEP : STEP;
      var moves = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step]};
      if (event.key === "Home") { setZ([0, 0]); }
      else if (moves[event.key]) { setZ([z[0] + moves[event.key][0], z[1] + moves[event.key][1]]); }
      else { return; }
      event.preventDefault();  // the arrows move the point, not the page
    });
    window.addEventListener("resize", function () { backdrop = null; draw(); });

    root.vaeExplorer = {setZ: setZ, getZ: function () { return z.slice(); }, image: image};
    draw();
    root.setAttribute("data-ready", "true");
  }

  function start(root) {
    var name = root.getAttribute("data-model");
    var registry = function () { return (window.VAE_EXPLORER_MODELS || {})[name]; };
    if (registry()) { build(root, registry()); return; }
    var script = document.createElement("script");
    script.src = root.getAttribute("data-weights");  // beside the page; a script loads from file:// too
    script.onload = function () {
      if (registry()) { build(root, registry()); } else { root.setAttribute("data-ready", "missing"); }
    };
    script.onerror = function () { root.setAttribute("data-ready", "missing"); };
    document.head.appendChild(script);
  }

  function startAll() { document.querySelectorAll(".vae-explorer[data-weights]").forEach(start); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", startAll); }
  else { startAll(); }
})();
