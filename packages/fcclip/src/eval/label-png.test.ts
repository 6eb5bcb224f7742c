import { describe, expect, test } from "vitest";
import { encodePng } from "../output/png.js";
import { decodeLabelPng } from "./label-png.js";

describe("label PNGs", () => {
  test("8-bit and 16-bit class maps keep their values; RGB is a COCO panoptic id", async () => {
    const g8 = decodeLabelPng(await encodePng(2, 2, 1, Uint8Array.from([0, 1, 254, 255])), "a");
    expect([...g8.labels]).toEqual([0, 1, 254, 255]);
    const g16 = decodeLabelPng(await encodePng(3, 1, 1, Uint16Array.from([300, 65535, 7])), "b");
    expect([...g16.labels]).toEqual([300, 65535, 7]);
    const rgb = decodeLabelPng(await encodePng(2, 1, 3, Uint8Array.from([1, 2, 3, 0, 0, 0])), "c");
    expect([...rgb.labels]).toEqual([1 + 2 * 256 + 3 * 65536, 0]);
    expect(rgb).toMatchObject({ width: 2, height: 1 });
  });

  test("unreadable bytes name the file", () => {
    expect(() => decodeLabelPng(new Uint8Array([1, 2, 3]), "x/y.png")).toThrow(/x\/y.png: not a readable PNG/);
  });
});
