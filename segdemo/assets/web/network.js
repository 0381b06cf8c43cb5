// A checkpoint's page network (segdemo.serving.export.page_network) run by LiteRT.js in this page.
// The network takes the RGBA bytes a canvas gives and returns labels, colours and pixels per class,
// so nothing here loops over pixels: a canvas scales the picture, the network does the rest.
import {Tensor, getDefaultEnvironment, isWebGPUSupported, loadAndCompile, loadLiteRt, supportsFeature} from "./vendor/litertjs/core.js";

const WASM = new URL("./vendor/litertjs/wasm/", import.meta.url);
let runtime = null;  // LiteRT.js loads once per page

/** Which build runs: threads need a cross-origin isolated page, and LiteRT.js's threaded build relaxed SIMD. */
async function loadRuntime() {
  const threads = self.crossOriginIsolated && (await supportsFeature("relaxedSimd")) && (await supportsFeature("threads"));
  runtime = runtime || loadLiteRt(WASM.href, {threads});
  const liteRt = await runtime;
  return {threads: threads ? liteRt.liteRtWasm.getThreadCount() : 1};
}

/** The network at `modelUrl` compiled for WebGPU where the browser has it, else WebAssembly. */
export async function openNetwork(modelUrl, inputHeight, inputWidth) {
  const {threads} = await loadRuntime();
  const response = await fetch(modelUrl);
  if (!response.ok) throw new Error(`${modelUrl}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  let model = null;
  let where = {engine: "WebAssembly", threads};
  if (isWebGPUSupported() && getDefaultEnvironment().webGpuDevice) {
    try {
      model = await loadAndCompile(bytes.slice(), {accelerator: "webgpu"});
      where = {engine: "WebGPU", threads};
    } catch (error) {
      console.warn("segdemo: WebGPU could not compile the network; WebAssembly runs it", error);
    }
  }
  model = model || await loadAndCompile(bytes, {accelerator: "wasm"});
  return new PageNetwork(model, inputHeight, inputWidth, where);
}

export class PageNetwork {
  constructor(model, height, width, where) {
    this.model = model;
    this.where = where;
    this.input = new OffscreenCanvas(width, height).getContext("2d", {willReadFrequently: true});
    // scales as the server's OpenCV does, within one level (the default "low" differed by up to 18)
    this.input.imageSmoothingQuality = "medium";
  }

  /** Labels (Uint8Array), colours (ImageData) at the network's input size, and pixels per class,
   * for a picture (video, image, bitmap or canvas), which a canvas first scales to that size. */
  async segment(picture) {
    const {canvas} = this.input;
    this.input.drawImage(picture, 0, 0, canvas.width, canvas.height);
    const rgba = this.input.getImageData(0, 0, canvas.width, canvas.height).data;
    const frame = new Tensor(new Uint8Array(rgba.buffer), [1, canvas.height, canvas.width, 4]);
    const started = performance.now();
    const outputs = await this.model.run({frame});
    try {
      const [labels, colours, counts] = await Promise.all(
        ["labels", "colours", "counts"].map((name) => outputs[name].data()));
      return {
        labels,
        colours: new ImageData(new Uint8ClampedArray(colours.buffer, colours.byteOffset, colours.byteLength), canvas.width, canvas.height),
        counts,
        milliseconds: performance.now() - started,
      };
    } finally {
      frame.delete();
      Object.values(outputs).forEach((tensor) => tensor.delete());
    }
  }
}
