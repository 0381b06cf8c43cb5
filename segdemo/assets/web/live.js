// The Live tab on this device: the camera's frames segmented in the page, the server doing no
// work per frame.  segdemo/ui/live.py writes the markup and its settings (data-config); this
// module starts the camera, runs the page network frame after frame (a frame arriving meanwhile is
// simply not taken, never queued), draws the overlay, the legend and the measured frame rate,
// and hands over to the server path, saying why, where the browser cannot run the network.
import {openNetwork} from "./network.js";

const RATE_WINDOW = 20;  // frames over which the rate is measured, as on the server
const OPACITY = 0.55;  // the overlay's, as the server draws it (imaging.overlay)

/** The texts of the page's language: Japanese for a Japanese browser, as the page's own labels. */
function textsFor(config) {
  return (navigator.language || "").toLowerCase().startsWith("ja") ? config.texts.ja : config.texts.en;
}

/** A locale template filled in: "{fps:.1f}" takes a number with one decimal, "{model}" any value. */
export function fill(template, values) {
  return template.replace(/\{(\w+)(?::\.(\d)f)?\}/g, (_, name, places) =>
    places === undefined ? String(values[name]) : Number(values[name]).toFixed(Number(places)));
}

/** The legend: each class's colour, name and share of the frame, largest first. */
function drawLegend(table, counts, classes) {
  const total = counts.reduce((sum, count) => sum + count, 0);
  const rows = classes.map((entry, index) => ({...entry, share: counts[index] / total}))
    .sort((a, b) => b.share - a.share);
  table.replaceChildren(...rows.map(({name, colour, share}) => {
    const row = document.createElement("tr");
    const swatch = Object.assign(document.createElement("span"), {className: "segdemo-live-swatch"});
    swatch.style.background = `rgb(${colour.join(",")})`;
    const cells = [swatch, name, `${(100 * share).toFixed(1)}%`].map((content) => {
      const cell = document.createElement("td");
      cell.append(content);
      return cell;
    });
    cells[2].style.textAlign = "right";
    row.append(...cells);
    return row;
  }));
}

class LiveView {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.texts = textsFor(config);
    this.parts = Object.fromEntries(["start", "note", "video", "overlay", "rate", "legend"].map(
      (part) => [part, root.querySelector(`.segdemo-live-${part}`)]));
    this.classes = config.classes.map((name, index) => ({
      name: this.texts.classes[index] ?? name, colour: config.colours[index]}));
    this.colours = null;  // a canvas at the network's size holding the last frame's colours
    this.running = false;
    this.generation = 0;  // a Stop then Start while a frame is in flight must not leave two loops
    this.parts.start.textContent = this.texts.start;
    this.parts.start.addEventListener("click", () => (this.running ? this.stop() : this.start()));
  }

  say(text) {
    this.parts.note.textContent = text;
  }

  /** The server path, with the reason the page cannot run the network. */
  handOver(reason) {
    this.stop();
    this.say(fill(this.texts.fallback, {reason}));
    this.parts.start.disabled = true;
    document.querySelector(`#live-where input[value="${this.config.server}"]`)?.click();
  }

  async start() {
    if (typeof WebAssembly !== "object") return this.handOver("no WebAssembly");
    this.running = true;
    this.parts.start.textContent = this.texts.stop;
    try {
      this.say(this.texts.loading);
      this.network = this.network || await openNetwork(this.config.model_url, ...this.config.input);
    } catch (error) {
      return this.handOver(String(error.message || error).slice(0, 200));
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({video: this.config.camera, audio: false});
    } catch (error) {
      this.stop();
      return this.say(fill(this.texts.camera_error, {reason: error.name || error}));
    }
    this.say("");
    const {video} = this.parts;
    video.srcObject = this.stream;
    await video.play();
    this.loop();
  }

  stop() {
    this.running = false;
    this.parts.start.textContent = this.texts.start;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
  }

  /** Segment the newest frame, draw it, and again; stops when the tab or the page stops showing it. */
  async loop() {
    const shown = [];
    const generation = ++this.generation;
    const {video, overlay, rate, legend} = this.parts;
    const where = this.network.where.engine === "WebAssembly"
      ? fill(this.texts.threads, {threads: this.network.where.threads}) : this.network.where.engine;
    while (this.running && generation === this.generation) {
      // the tab, the browser tab or the in-page block hidden: stop, releasing the camera
      if (document.hidden || !this.root.isConnected || this.root.offsetParent === null) return this.stop();
      const started = performance.now();
      const frame = await createImageBitmap(video);  // the frame segmented is the frame shown
      const result = await this.network.segment(frame);
      this.draw(overlay, frame, result.colours);
      frame.close();
      shown.push(performance.now());
      if (shown.length > RATE_WINDOW) shown.shift();
      const fps = shown.length < 2 ? 0 : (shown.length - 1) / ((shown.at(-1) - shown[0]) / 1000);
      rate.textContent = fill(this.texts.rate, {fps, model: this.config.model, engine: where,
        milliseconds: performance.now() - started, network: result.milliseconds});
      rate.dataset.fps = fps.toFixed(2);
      drawLegend(legend, result.counts, this.classes);
      await new Promise(requestAnimationFrame);  // let the page paint and answer clicks between frames
    }
  }

  /** The frame with its colours over it at the overlay's opacity; the canvas scales them. */
  draw(canvas, frame, colours) {
    if (canvas.width !== frame.width || canvas.height !== frame.height) {
      canvas.width = frame.width;
      canvas.height = frame.height;
    }
    if (!this.colours) this.colours = new OffscreenCanvas(colours.width, colours.height);
    this.colours.getContext("2d").putImageData(colours, 0, 0);
    const context = canvas.getContext("2d");
    context.globalAlpha = 1;
    context.drawImage(frame, 0, 0);
    context.globalAlpha = OPACITY;
    context.drawImage(this.colours, 0, 0, canvas.width, canvas.height);
  }
}

/** Called by the tab's HTML block when it appears (gr.HTML's js_on_load). */
export function mount(element) {
  const root = element.querySelector(".segdemo-live-page");
  const config = JSON.parse(root.dataset.config);
  const view = new LiveView(root, config);
  if (!config.model_url) {
    view.parts.start.disabled = true;
    view.say(fill(view.texts.no_network, {model: config.model}));
  }
  root.dataset.ready = "yes";  // for tests and benchmarks: the button now answers
  return view;
}
