import type { RgbImage } from "@fcclip/clip";
import { classColor } from "@fcclip/core";
import type { RegionMap } from "./regions.js";

/**
 * The image with its regions tinted (opacity adjustable), borders, and a highlighted region (hovered in the image
 * or in the legend) with a tooltip naming its class and score.
 */
export class SegmentsView {
  private image: RgbImage | null = null;
  private map: RegionMap | null = null;
  /** 1 where a pixel borders another region: computed once per result, not on every hover. */
  private border: Uint8Array = new Uint8Array(0);
  private opacity = 0.55;
  private highlighted = -1;
  private frame = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly tooltip: HTMLElement,
    private readonly legend: HTMLElement,
  ) {
    canvas.addEventListener("mousemove", (ev) => this.hover(this.regionAt(ev), ev));
    canvas.addEventListener("mouseleave", () => this.hover(-1));
  }

  show(image: RgbImage, map: RegionMap | null): void {
    this.image = image;
    this.map = map;
    this.highlighted = -1;
    this.canvas.width = image.width;
    this.canvas.height = image.height;
    this.border = map ? borders(map.index, image.width, image.height) : new Uint8Array(0);
    this.renderLegend();
    this.draw();
  }

  setOpacity(a: number): void {
    this.opacity = a;
    this.draw();
  }

  /** The region under a pointer event, or −1. */
  private regionAt(ev: MouseEvent): number {
    if (!this.map || !this.image) return -1;
    const r = this.canvas.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - r.left) / r.width) * this.image.width);
    const y = Math.floor(((ev.clientY - r.top) / r.height) * this.image.height);
    if (x < 0 || y < 0 || x >= this.image.width || y >= this.image.height) return -1;
    return this.map.index[y * this.image.width + x]!;
  }

  private hover(region: number, ev?: MouseEvent): void {
    const reg = region >= 0 ? this.map?.regions[region] : undefined;
    if (reg && ev) {
      this.tooltip.hidden = false;
      this.tooltip.textContent = reg.score === null ? reg.label : `${reg.label} · ${reg.score.toFixed(3)}`;
      const box = this.canvas.parentElement!.getBoundingClientRect();
      this.tooltip.style.left = `${ev.clientX - box.left + 12}px`;
      this.tooltip.style.top = `${ev.clientY - box.top + 12}px`;
    } else if (!ev || !reg) this.tooltip.hidden = true;
    if (region === this.highlighted) return;
    this.highlighted = region;
    for (const li of this.legend.querySelectorAll<HTMLElement>("li")) {
      li.classList.toggle("active", Number(li.dataset.region) === region);
    }
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.draw());
  }

  private renderLegend(): void {
    this.legend.replaceChildren();
    if (!this.map) return;
    const order = this.map.regions.map((r, i) => [r, i] as const).sort((a, b) => b[0].area - a[0].area);
    for (const [r, i] of order) {
      const li = document.createElement("li");
      li.dataset.region = String(i);
      li.dataset.category = r.label;
      if (r.score !== null) li.dataset.score = r.score.toFixed(6);
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = `rgb(${classColor(r.categoryId).join(",")})`;
      const text = document.createElement("span");
      text.textContent = r.score === null ? r.label : `${r.label} ${r.score.toFixed(2)}`;
      li.append(sw, text);
      li.addEventListener("mouseenter", () => this.hover(i));
      li.addEventListener("mouseleave", () => this.hover(-1));
      this.legend.append(li);
    }
  }

  private draw(): void {
    const img = this.image;
    if (!img) return;
    const ctx = this.canvas.getContext("2d")!;
    const out = ctx.createImageData(img.width, img.height);
    const { width: W, height: H } = img;
    const index = this.map?.index;
    const regions = this.map?.regions;
    const colors = regions?.map((r) => classColor(r.categoryId));
    const dark = colors?.map((c) => c.map((v) => v * 0.5));
    const h = this.highlighted;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const o = i * 4;
        const r = index ? index[i]! : -1;
        let a = 0;
        let c: readonly number[] = [0, 0, 0];
        if (r >= 0 && colors) {
          c = colors[r]!;
          a = h < 0 ? this.opacity : r === h ? Math.max(0.8, this.opacity) : this.opacity * 0.35;
          if (this.border[i]) {
            a = Math.min(1, a + 0.35);
            c = dark![r]!;
          }
        }
        for (let k = 0; k < 3; k++) out.data[o + k] = Math.round(img.data[i * 3 + k]! * (1 - a) + c[k]! * a);
        out.data[o + 3] = 255;
      }
    }
    ctx.putImageData(out, 0, 0);
  }
}

function borders(index: Int32Array, W: number, H: number): Uint8Array {
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const r = index[i]!;
      if (r < 0) continue;
      out[i] = Number(
        (x > 0 && index[i - 1] !== r) ||
          (y > 0 && index[i - W] !== r) ||
          (x + 1 < W && index[i + 1] !== r) ||
          (y + 1 < H && index[i + W] !== r),
      );
    }
  }
  return out;
}
