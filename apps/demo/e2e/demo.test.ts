/**
 * The built app in Debian's Chromium (WebGPU on SwiftShader) against the Node CLI: the oracle's tiny model, given as
 * the official files, converted in the browser; chelsea × COCO panoptic; then the cached model after a reload.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage, loadVocabulary } from "@fcclip/core/node";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../../packages/fcclip/src/cli/main.js";
import { CHELSEA, TINY, TINY_MODEL, TINY_SEGMENT_ARGS } from "../../../packages/fcclip/src/testing/oracle-tiny.js";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../packages/tensor-core/src/testing/shared.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../../../vitest.chromium.js";
import { serve } from "../serve.mjs";

const APP = fileURLToPath(new URL("../dist/", import.meta.url));
const RESNET_FIXTURES = fileURLToPath(new URL("../../../packages/fcclip/fixtures/", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const MODEL_URLS = ["fcclip_tiny_head.pth", "open_clip_tiny.bin", "convnext_oracle_tiny_clip.json"]
  .map((f) => `model/${f}`) // relative to the page, as users type them
  .concat("/oracle/config.yaml");

const missing = !HAS_SHARED
  ? NO_SHARED
  : !existsSync(CHROMIUM)
    ? `${CHROMIUM} is missing: apt-get install chromium`
    : !existsSync(join(APP, "index.html"))
      ? "the app is not built: npm run build"
      : null;

/** Ids per pixel from a COCO panoptic PNG (R + 256·G + 256²·B). */
function panopticIds(png: Uint8Array): Int32Array {
  const img = decodeImage(png);
  return Int32Array.from({ length: img.width * img.height }, (_, i) => {
    const [r, g, b] = img.data.subarray(i * 3, i * 3 + 3);
    return r! + 256 * g! + 65536 * b!;
  });
}

async function downloads(page: Page): Promise<Record<string, Uint8Array>> {
  const files = await page.$$eval("#downloads a", (links) =>
    Promise.all(
      (links as HTMLAnchorElement[]).map(async (a) => {
        const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
        return [a.dataset.suffix!, a.download, Array.from(bytes)] as const;
      }),
    ),
  );
  for (const [suffix, name] of files) expect(name).toBe(`chelsea${suffix}`);
  return Object.fromEntries(files.map(([suffix, , bytes]) => [suffix, Uint8Array.from(bytes)]));
}

const json = (b: Uint8Array | Buffer) => JSON.parse(new TextDecoder().decode(b));

/**
 * Equal JSON, except that scores (non-integers) may differ by float rounding: SwiftShader and lavapipe sum in
 * different orders. Integers (ids, classes, areas, boxes, RLE counts) and strings must match exactly.
 */
function expectSameJson(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof expected === "number" && !Number.isInteger(expected)) {
    expect(typeof actual, path).toBe("number");
    expect(Math.abs((actual as number) - expected), path).toBeLessThanOrEqual(1e-5);
  } else if (expected && typeof expected === "object") {
    expect(Array.isArray(actual), path).toBe(Array.isArray(expected));
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected))
      expectSameJson((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else expect(actual, path).toEqual(expected);
}

/** A new page of the app, once its worker is up and the vocabulary shown. */
async function openApp(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
  return page;
}

/** Waits for a model load started on the page, and checks it succeeded. */
async function modelLoaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.body.dataset.model === "loaded" || !document.getElementById("error")!.hidden,
    null,
    { timeout: 300_000 },
  );
  expect(await page.locator("#error").isHidden(), (await page.textContent("#error")) ?? "").toBe(true);
}

async function segmentChelsea(page: Page, runs: number): Promise<void> {
  await page.setInputFiles("#image-file", CHELSEA);
  await page.waitForFunction(() => !(document.getElementById("segment") as HTMLButtonElement).disabled);
  await page.click("#segment");
  await page.waitForFunction(
    (n) => document.body.dataset.runs === String(n) || !document.getElementById("error")!.hidden,
    runs,
    { timeout: 300_000 },
  );
  expect(await page.locator("#error").isHidden(), (await page.textContent("#error")) ?? "").toBe(true);
}

describe.skipIf(missing)(`the demo app in Chromium (${missing ?? "oracle tiny model"})`, () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: Browser;
  const cli: Record<string, Buffer> = {};
  let bundle: string[] = [];
  let bundleF16Bytes = 0;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), "fcclip-e2e-"));
    server = await serve({
      root: APP,
      mounts: { data: join(SHARED, "data"), model: join(TINY, "model"), oracle: TINY, converted: out },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // The reference: the Node CLI on the same files.
    const M = TINY_MODEL;
    const code = await run(
      [...TINY_SEGMENT_ARGS, "--vocab", "coco_panoptic", "--input", CHELSEA, "--output", out],
      () => {},
    );
    expect(code).toBe(0);
    for (const suffix of [".json", ".panoptic.png", ".semantic.png", ".instances.json"])
      cli[suffix] = readFileSync(join(out, `chelsea${suffix}`));
    const convert = (name: string, extra: string[]) =>
      run(
        [
          "convert",
          "--weights",
          join(M, "fcclip_tiny_head.pth"),
          "--clip-weights",
          join(M, "open_clip_tiny.bin"),
          "--clip-config",
          join(M, "convnext_oracle_tiny_clip.json"),
          "--opts",
          "MODEL.MASK_FORMER.NHEADS",
          "4",
          "--output",
          join(out, name),
          ...extra,
        ],
        () => {},
      );
    expect(await convert("tiny-bundle", [])).toBe(0);
    expect(await convert("tiny-bundle-f16", ["--f16"])).toBe(0);
    bundleF16Bytes = statSync(join(out, "tiny-bundle-f16.safetensors")).size;
    bundle = [join(out, "tiny-bundle.safetensors"), join(out, "tiny-bundle.json")];
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test("official files converted in the browser give the CLI's segments and files; a reload uses the caches", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.on("weberror", (e) => pageErrors.push(e.error().message));
    const page = await openApp(context, `${server.url}/?data=/data/&model=${MODEL_URLS.join(",")}`);
    expect(await page.textContent("#adapter")).toMatch(/WebGPU: .*swiftshader/i);
    expect(await page.textContent("#vocab-summary")).toMatch(/^133 classes \(80 things, 53 stuff\): 133 seen/);

    await page.click("#load-urls");
    await modelLoaded(page);
    expect(await page.textContent("#model-status")).toMatch(/25 queries; input 160–288 px/);

    await segmentChelsea(page, 1);
    const files = await downloads(page);
    expect(Object.keys(files).sort()).toEqual(
      [".instances.json", ".json", ".overlay.png", ".panoptic.png", ".semantic.png"].sort(),
    );
    // The JSON files equal the CLI's, but for the image path the CLI was given.
    const ref = json(cli[".json"]!);
    expectSameJson(json(files[".json"]!), { ...ref, image: { ...ref.image, file: "chelsea.png" } });
    const refInst = json(cli[".instances.json"]!);
    expectSameJson(json(files[".instances.json"]!), { ...refInst, image: { ...refInst.image, file: "chelsea.png" } });
    expect(panopticIds(files[".panoptic.png"]!)).toEqual(panopticIds(cli[".panoptic.png"]!));
    expect(decodeImage(files[".semantic.png"]!).data).toEqual(decodeImage(cli[".semantic.png"]!).data);

    // The rendered legend lists the CLI's segments with their scores.
    const legend = await page.$$eval("#legend li", (lis) =>
      (lis as HTMLElement[]).map((li) => [li.dataset.category, Number(li.dataset.score)] as const),
    );
    const segments = ref.segments as { category: string; score: number; area: number }[];
    expect(legend.length).toBe(segments.length);
    const byArea = [...segments].sort((a, b) => b.area - a.area);
    legend.forEach(([name, score], i) => {
      expect(name).toBe(byArea[i]!.category);
      expect(score).toBeCloseTo(byArea[i]!.score, 5);
    });

    // Hovering a pixel of the largest segment names its class and score, as the CLI's panoptic map says.
    const ids = panopticIds(cli[".panoptic.png"]!);
    const big = segments.indexOf(byArea[0]!) + 1;
    const { width, height } = ref.image as { width: number; height: number };
    let at = -1;
    for (let i = 0; i < ids.length && at < 0; i++) {
      const x = i % width;
      const y = (i / width) | 0;
      if (
        x > 2 &&
        y > 2 &&
        x < width - 3 &&
        y < height - 3 &&
        [-2, 0, 2].every((d) => ids[i + d] === big && ids[i + d * width] === big)
      )
        at = i;
    }
    expect(at).toBeGreaterThanOrEqual(0);
    // The pointer only reaches what is in the viewport.
    await page.locator("#canvas").scrollIntoViewIfNeeded();
    const box = (await page.locator("#canvas").boundingBox())!;
    await page.mouse.move(
      box.x + (((at % width) + 0.5) / width) * box.width,
      box.y + ((((at / width) | 0) + 0.5) / height) * box.height,
    );
    await expect
      .poll(() => page.textContent("#tooltip"))
      .toBe(`${byArea[0]!.category} · ${byArea[0]!.score.toFixed(3)}`);
    expect(await page.locator(`#legend li[data-region="${big - 1}"]`).getAttribute("class")).toBe("active");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "chelsea-coco-hover.png"), fullPage: true });

    // Semantic and instance views come from the same result.
    await page.check('input[name="task"][value="semantic"]');
    expect(await page.$$eval("#legend li", (l) => l.length)).toBeGreaterThan(0);
    await page.check('input[name="task"][value="instance"]');
    const kept = (refInst.instances as { score: number }[]).filter((x) => x.score >= 0.5).length;
    expect(await page.$$eval("#legend li", (l) => l.length)).toBeLessThanOrEqual(kept);
    await page.check('input[name="task"][value="panoptic"]');
    await page.screenshot({ path: join(ARTIFACTS, "chelsea-coco.png"), fullPage: true });

    // A second image reuses the model and the encoded vocabulary.
    await segmentChelsea(page, 2);
    expect(await page.textContent("#timings")).toContain("text classifier (memory)");

    // After a reload, the converted model comes from OPFS and the vocabulary from IndexedDB.
    await page.reload();
    await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
    expect(await page.locator("#cached-row").isVisible()).toBe(true);
    await page.click("#load-cached");
    await modelLoaded(page);
    await segmentChelsea(page, 1);
    expect(await page.textContent("#timings")).toContain("text classifier (store)");
    expect(panopticIds((await downloads(page))[".panoptic.png"]!)).toEqual(ids);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  test("bad inputs are reported in the page, and nothing is cached for a failed model", async () => {
    const context = await browser.newContext();
    const page = await openApp(context, `${server.url}/?data=/data/`);
    const cachedBefore = await page.$$eval("#cached option", (o) => o.length);
    await page.fill("#model-urls", "/model/missing.pth\n/model/open_clip_tiny.bin");
    await page.click("#load-urls");
    await expect.poll(() => page.textContent("#error")).toMatch(/cannot fetch .*missing\.pth: HTTP 404/);
    // open_clip weights alone: no FC-CLIP heads.
    await page.fill("#model-urls", "/model/open_clip_tiny.bin");
    await page.click("#load-urls");
    await expect.poll(() => page.textContent("#error")).toMatch(/no FC-CLIP checkpoint given/);
    expect(await page.$$eval("#cached option", (o) => o.length)).toBe(cachedBefore);
    // A full storage quota (1 MB here, through the DevTools protocol) is reported, and leaves nothing behind.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.url, quotaSize: 2 ** 20 });
    await page.fill("#model-urls", "/model/fcclip_tiny_head.pth\n/model/open_clip_tiny.bin");
    await page.click("#load-urls");
    await expect
      .poll(() => page.textContent("#error"), { timeout: 30_000 })
      .toMatch(/storage for this site is full while writing download-0: forget cached models/);
    expect(await page.$$eval("#cached option", (o) => o.length)).toBe(cachedBefore);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.url });
    // The presets: ADE20K-150 has 100 things, 64 classes seen in COCO (FCCLIP-SPEC); COCO + ADE20K as the library
    // merges them.
    await page.selectOption("#vocab-preset", "ade20k_150");
    await expect
      .poll(() => page.textContent("#vocab-summary"))
      .toBe("150 classes (100 things, 50 stuff): 64 seen in COCO training (α = 0.4), 86 unseen (β = 0.8)");
    // The browser app and the CLI read the data folder through the same DataFolder.
    const merged = await loadVocabulary("coco_ade20k", join(SHARED, "data"));
    await page.selectOption("#vocab-preset", "coco_ade20k");
    await expect
      .poll(() => page.textContent("#vocab-summary"))
      .toMatch(new RegExp(`^${merged.classes.length} classes `));
    expect(await page.$$eval("#vocab-classes li", (l) => l.length)).toBe(merged.classes.length);
    await page.selectOption("#vocab-preset", "custom");
    await page.fill("#vocab-text", " ; ");
    await expect.poll(() => page.textContent("#vocab-summary")).toMatch(/the vocabulary is empty/);
    await page.fill("#vocab-text", "cat, kitty; stuff: sky; zebra");
    await expect
      .poll(() => page.textContent("#vocab-summary"))
      .toBe("3 classes (2 things, 1 stuff): 3 seen in COCO training (α = 0.4), 0 unseen (β = 0.8)");
    await page.fill("#vocab-text", "cat; axolotl");
    await expect.poll(() => page.textContent("#vocab-summary")).toMatch(/1 seen in COCO training .*, 1 unseen/);
    await page.setInputFiles("#image-file", join(TINY, "model", "weights.json"));
    await expect.poll(() => page.textContent("#error")).toMatch(/weights\.json: not an image this browser can decode/);
    // Without FC-CLIP's data files the page says where it looked and what to do.
    const noData = await openApp(context, `${server.url}/?data=/nowhere/`);
    expect(await noData.textContent("#vocab-summary")).toMatch(
      /cannot fetch the coco_panoptic vocabulary from .*\/nowhere\/vocab\/coco_panoptic_with_prompt_eng\.txt \(HTTP 404\): put FC-CLIP's data files/,
    );
    await noData.close();

    // Images also arrive by drag and drop and by paste.
    const png = readFileSync(CHELSEA).toString("base64");
    const transfer = () =>
      page.evaluateHandle((b64) => {
        const dt = new DataTransfer();
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], "chelsea.png", { type: "image/png" }));
        return dt;
      }, png);
    const size = () =>
      page.$eval("#canvas", (c) => `${(c as HTMLCanvasElement).width}x${(c as HTMLCanvasElement).height}`);
    await page.dispatchEvent("body", "drop", { dataTransfer: await transfer() });
    await expect.poll(size).toBe("451x300");
    await page.setInputFiles("#image-file", []);
    await page.evaluate(() => {
      (document.getElementById("canvas") as HTMLCanvasElement).width = 1;
    });
    const dt = await transfer();
    await page.evaluate((d) => document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: d })), dt);
    await expect.poll(size).toBe("451x300");
    await context.close();
  });

  test("a bundle from fcclip convert: picked from disk it gives the CLI's segments; by URL it is kept as is", async () => {
    const context = await browser.newContext();
    const page = await openApp(context, `${server.url}/?data=/data/`);
    // The bundle records the head counts; the config brings the oracle's input size (160–288).
    await page.setInputFiles("#model-files", [...bundle, join(TINY, "config.yaml")]);
    await modelLoaded(page);
    expect(await page.textContent("#model-status")).toMatch(
      /^tiny-bundle\.safetensors \+ tiny-bundle\.json \+ config\.yaml: .*input 160–288 px/,
    );
    await segmentChelsea(page, 1);
    expect(panopticIds((await downloads(page))[".panoptic.png"]!)).toEqual(panopticIds(cli[".panoptic.png"]!));

    // A bundle by URL is kept as downloaded: an f16 bundle stays f16 (converting it again would store f32).
    await page.fill("#model-urls", "/converted/tiny-bundle-f16.safetensors\n/oracle/config.yaml");
    await page.click("#load-urls");
    await modelLoaded(page);
    // The cached list is refreshed right after the load completes.
    const cachedBytes = () =>
      page.$$eval("#cached option", (os) =>
        os.find((o) => o.textContent?.startsWith("tiny-bundle-f16.safetensors"))?.getAttribute("data-bytes"),
      );
    await expect.poll(cachedBytes).toBe(String(bundleF16Bytes));
    await segmentChelsea(page, 2);
    expect(await page.$$eval("#legend li", (l) => l.length)).toBeGreaterThan(0);
    await context.close();
  });

  test("a ResNet CLIP model (heads + a TorchScript CLIP like OpenAI's RN50.pt, picked from disk) gives the CLI's segments", async () => {
    // The tiny ResNet FC-CLIP of packages/fcclip/fixtures/generate_resnet_fcclip.py, on chelsea at the oracle's input
    // size, with COCO's names encoded by its text tower: the browser reads the TorchScript archive itself.
    const files = ["resnet_fcclip_heads.safetensors", "resnet_clip_tiny.pt", "resnet_clip_tiny.json"].map((f) =>
      join(RESNET_FIXTURES, f),
    );
    const out = mkdtempSync(join(tmpdir(), "fcclip-e2e-rn-"));
    const args = [
      "segment",
      "--no-cache",
      "--weights",
      files[0]!,
      "--clip-weights",
      files[1]!,
      "--clip-config",
      files[2]!,
    ];
    const code = await run(
      [...args, "--config-file", join(TINY, "config.yaml"), "--data-dir", join(SHARED, "data")].concat([
        "--vocab",
        "coco_panoptic",
        "--input",
        CHELSEA,
        "--output",
        out,
      ]),
      () => {},
    );
    expect(code).toBe(0);
    const context = await browser.newContext();
    const page = await openApp(context, `${server.url}/?data=/data/`);
    await page.setInputFiles("#model-files", [...files, join(TINY, "config.yaml")]);
    await modelLoaded(page);
    expect(await page.textContent("#model-status")).toMatch(/ResNet CLIP, dims 16\/32\/64\/128/);
    await segmentChelsea(page, 1);
    const got = await downloads(page);
    expect(panopticIds(got[".panoptic.png"]!)).toEqual(panopticIds(readFileSync(join(out, "chelsea.panoptic.png"))));
    const ref = json(readFileSync(join(out, "chelsea.json")));
    expectSameJson(json(got[".json"]!), { ...ref, image: { ...ref.image, file: "chelsea.png" } });
    await context.close();
  });

  test("without WebGPU the page says what to use instead; the camera gives a snapshot", async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined }));
    const page = await context.newPage();
    await page.goto(`${server.url}/?data=/data/`);
    await expect.poll(() => page.textContent("#fatal")).toMatch(/does not expose WebGPU\. Use a recent Chrome or Edge/);
    expect(await page.locator("#segment").isDisabled()).toBe(true);
    await context.close();
    // Chromium's fake camera (a generated test pattern) stands in for a webcam.
    const cam = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    });
    try {
      const p = await openApp(await cam.newContext(), `${server.url}/?data=/data/`);
      await p.click("#camera");
      await p.waitForSelector("#snap:not([hidden])");
      await p.click("#snap");
      await expect
        .poll(() => p.$eval("#canvas", (c) => (c as HTMLCanvasElement).width), { timeout: 10_000 })
        .toBeGreaterThan(1);
      expect(await p.locator("#error").isHidden(), (await p.textContent("#error")) ?? "").toBe(true);
    } finally {
      await cam.close();
    }
  });
});
