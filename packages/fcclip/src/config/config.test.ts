import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HAS_SHARED, NO_SHARED, SHARED } from "../../../tensor-core/src/testing/shared.js";
import { ConfigError } from "./config.js";
import { resolveConfig } from "./config-files.js";

test("without a file: the official eval defaults; --opts override with YAML values", async () => {
  const c = await resolveConfig(undefined, [
    ["INPUT.MIN_SIZE_TEST", "640"],
    ["MODEL.MASK_FORMER.TEST.INSTANCE_ON", "False"],
  ]);
  expect(c.fcclip).toMatchObject({
    minSize: 640,
    maxSize: 1333,
    alpha: 0.4,
    beta: 0.8,
    overlapThreshold: 0.8,
    objectMaskThreshold: 0,
  });
  expect(c.heads).toBe(8);
  expect(c.tasks).toEqual(["panoptic", "semantic"]);
  expect(c.fcclip.semanticBeforeInference).toBe(true);
  const semOnly = await resolveConfig(undefined, [
    ["MODEL.MASK_FORMER.TEST.INSTANCE_ON", "False"],
    ["MODEL.MASK_FORMER.TEST.PANOPTIC_ON", "False"],
  ]);
  expect(semOnly.fcclip.semanticBeforeInference).toBe(false);
  expect(semOnly.tasks).toEqual(["semantic"]);
  await expect(resolveConfig(undefined, [["MODEL.NOPE", "1"]])).rejects.toThrow(ConfigError);
  await expect(resolveConfig(undefined, [["INPUT.MIN_SIZE_TEST", "big"]])).rejects.toThrow(/must be a number/);
  await expect(resolveConfig("/nonexistent.yaml")).rejects.toThrow(/no such file/);
});

describe.skipIf(!HAS_SHARED)(`official config files (${HAS_SHARED ? "../shared/data/configs" : NO_SHARED})`, () => {
  test("the ADE20K eval config through its _BASE_ chain, and the oracle's merged config", async () => {
    const ade = await resolveConfig(
      join(
        SHARED,
        "data",
        "configs",
        "coco",
        "panoptic-segmentation",
        "fcclip",
        "fcclip_convnext_large_eval_ade20k.yaml",
      ),
    );
    expect(ade.heads).toBe(8);
    expect(ade.fcclip.sizeDivisibility).toBe(32);
    expect(ade.tasks).toEqual(["panoptic", "semantic", "instance"]);
    const tiny = await resolveConfig(join(SHARED, "oracle", "tiny", "config.yaml"));
    expect(tiny.fcclip).toMatchObject({ minSize: 160, maxSize: 288 });
    expect(tiny.heads).toBe(4);
  });
});
