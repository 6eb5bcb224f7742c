import type { ClassifierStore } from "@fcclip/core";

const DB = "fcclip-demo";
const STORE = "text-classifiers";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Encoded vocabularies in IndexedDB, keyed like the CLI's cache folder (text weights, classes, templates). */
export function indexedDbStore(): ClassifierStore {
  const db = open();
  return {
    async get(key) {
      const value = await done((await db).transaction(STORE).objectStore(STORE).get(key));
      return value instanceof Float32Array ? value : undefined;
    },
    async set(key, embeddings) {
      await done((await db).transaction(STORE, "readwrite").objectStore(STORE).put(embeddings, key));
    },
  };
}
