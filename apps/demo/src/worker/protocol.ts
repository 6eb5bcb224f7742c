import type { Preset, ResolvedConfig, Segmentation, Task } from "@fcclip/core";

/** Where model files come from: absolute URLs (fetched by the worker) or files the user picked. */
export type ModelSource = { kind: "url"; url: string } | { kind: "file"; file: File };

/** A vocabulary preset (read from the data folder) or the user's own classes (`;` classes, `,` synonyms, `stuff:`). */
export type VocabularySpec = { preset: Preset } | { text: string };

export interface CachedModel {
  key: string;
  label: string;
  bytes: number;
  createdAt: string;
  config: ResolvedConfig;
}

export interface ModelInfo {
  label: string;
  adapter: string;
  architecture: string;
  config: ResolvedConfig;
}

export interface VocabularyInfo {
  name: string;
  classes: { name: string; synonyms: string[]; isThing: boolean; seen: boolean }[];
}

export interface SegmentReply {
  segmentation: Segmentation;
  classNames: string[];
  /** The CLI's files for this image, by suffix (".json", ".panoptic.png", ...). */
  files: Record<string, Uint8Array>;
  /** Milliseconds per stage, in order. */
  timings: [string, number][];
  /** Where the encoded vocabulary came from: the worker's memory, IndexedDB, or the text tower just now. */
  textClassifier: "memory" | "store" | "encoded";
}

export type Request =
  | { type: "init"; dataUrl: string }
  | { type: "listCached" }
  | { type: "forget"; key: string }
  | { type: "load"; sources: ModelSource[] }
  | { type: "loadCached"; key: string }
  | { type: "vocabulary"; spec: VocabularySpec }
  | {
      type: "segment";
      image: { width: number; height: number; data: Uint8Array };
      fileName: string;
      spec: VocabularySpec;
      tasks: Task[];
    };

export interface Replies {
  init: { adapter: string };
  listCached: CachedModel[];
  forget: CachedModel[];
  load: ModelInfo;
  loadCached: ModelInfo;
  vocabulary: VocabularyInfo;
  segment: SegmentReply;
}

/** Worker → page: progress of request `id`, its reply, or its failure (an error's class name and message). */
export type WorkerMessage =
  | { id: number; kind: "progress"; stage: string; done: number; total: number; unit: "bytes" | "items" }
  | { id: number; kind: "reply"; value: unknown }
  | { id: number; kind: "error"; name: string; message: string };
