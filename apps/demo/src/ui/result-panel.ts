import type { Task } from "@fcclip/core";
import { regionMap } from "../view/regions.js";
import type { SegmentsView } from "../view/segments-view.js";
import type { SegmentReply } from "../worker/protocol.js";
import { $, type Page } from "./page.js";
import { vocabularySpec } from "./vocabulary-panel.js";

const TASK_LABELS: Record<Task, string> = { panoptic: "Panoptic", semantic: "Semantic", instance: "Instance" };

/** The task toggles, and the view of the chosen task. */
function showTask(page: Page, view: SegmentsView, task?: Task): void {
  if (!page.result) return;
  const { reply, image } = page.result;
  const seg = reply.segmentation;
  const available = (["panoptic", "semantic", "instance"] as const).filter((t) =>
    t === "panoptic" ? seg.panoptic : t === "semantic" ? seg.semantic : seg.instances,
  );
  const current = task ?? available[0];
  if (!current) return;
  $("tasks").replaceChildren(
    ...available.map((t) => {
      const label = document.createElement("label");
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "task";
      radio.value = t;
      radio.checked = t === current;
      radio.addEventListener("change", () => showTask(page, view, t));
      label.append(radio, TASK_LABELS[t]);
      return label;
    }),
  );
  view.show(image, regionMap(seg, current, reply.classNames));
}

/** The CLI's files as downloads, and the stage timings. */
function showFiles(reply: SegmentReply, fileName: string): void {
  const stem = fileName.replace(/\.[^.]+$/, "");
  const list = $("downloads");
  for (const a of list.querySelectorAll("a")) URL.revokeObjectURL(a.href);
  list.replaceChildren(
    ...Object.entries(reply.files).map(([suffix, bytes]) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      const type = suffix.endsWith(".png") ? "image/png" : "application/json";
      a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
      a.download = `${stem}${suffix}`;
      a.dataset.suffix = suffix;
      a.textContent = a.download;
      li.append(a);
      return li;
    }),
  );
  const total = reply.timings.reduce((s, [, ms]) => s + ms, 0);
  $("timings").replaceChildren(
    ...[...reply.timings, ["total", total] as [string, number]].map(([stage, ms]) => {
      const tr = document.createElement("tr");
      const a = document.createElement("td");
      const b = document.createElement("td");
      a.textContent = stage;
      b.textContent = `${ms.toFixed(0)} ms`;
      tr.append(a, b);
      return tr;
    }),
  );
}

/** The Segment button, the result's views, downloads and timings, and the opacity slider. */
export function resultPanel(page: Page, view: SegmentsView): void {
  let runs = 0;
  $("segment").addEventListener("click", () =>
    page.action(async () => {
      if (!page.model || !page.image) return;
      const { rgb, name } = page.image;
      const copy = rgb.data.slice();
      const reply = await page.client.call(
        {
          type: "segment",
          image: { width: rgb.width, height: rgb.height, data: copy },
          fileName: name,
          spec: vocabularySpec(),
          tasks: page.model.config.tasks,
        },
        page.progress,
        [copy.buffer],
      );
      page.result = { reply, image: rgb };
      showTask(page, view);
      showFiles(reply, name);
      document.body.dataset.runs = String(++runs);
    }),
  );
  $<HTMLInputElement>("opacity").addEventListener("input", (ev) =>
    view.setOpacity(Number((ev.target as HTMLInputElement).value)),
  );
}
