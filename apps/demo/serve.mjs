#!/usr/bin/env node
// A static server for the built app, with FC-CLIP's data folder and model folders mounted beside it:
//   node apps/demo/serve.mjs --data ~/fc-clip/fcclip/data/datasets/.. --mount models=~/fcclip-weights [--port 8080]
// It sends Content-Length (download progress) and never Content-Encoding (files are served as they are).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** @type {Record<string, string>} */
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".txt": "text/plain; charset=utf-8",
  ".yaml": "text/yaml; charset=utf-8",
};

/**
 * Serves `root` at / and each mount (URL prefix → folder) under its prefix, on 127.0.0.1.
 * @param {{ root: string, mounts?: Record<string, string>, port?: number }} opts
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function serve({ root, mounts = {}, port = 0 }) {
  /** @type {[string, string][]} */
  const table = [
    ...Object.entries(mounts).map(
      ([prefix, dir]) => /** @type {[string, string]} */ ([`/${prefix.replace(/^\/|\/$/g, "")}/`, resolve(dir)]),
    ),
    /** @type {[string, string]} */ (["/", resolve(root)]),
  ];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const [prefix, dir] = /** @type {[string, string]} */ (table.find(([p]) => path.startsWith(p)));
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      let s = await stat(file);
      if (s.isDirectory()) {
        file = join(file, "index.html");
        s = await stat(file);
      }
      res.writeHead(200, {
        "content-type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
        "content-length": s.size,
        "cache-control": "no-cache",
      });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
    }
  });
  return new Promise((ok) => {
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      ok({
        url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  /** @type {Record<string, string>} */
  const mounts = {};
  let port = 8080;
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    const value = args[i + 1];
    if (!["--data", "--mount", "--port"].includes(flag ?? "") || value === undefined) {
      console.error("usage: serve.mjs [--data DIR] [--mount PREFIX=DIR]... [--port N]");
      process.exit(2);
    }
    if (flag === "--data") mounts.data = value;
    else if (flag === "--port") port = Number(value);
    else if (value.includes("=")) mounts[value.slice(0, value.indexOf("="))] = value.slice(value.indexOf("=") + 1);
    else {
      console.error(`--mount takes PREFIX=DIR, got '${value}'`);
      process.exit(2);
    }
  }
  const root = fileURLToPath(new URL("./dist/", import.meta.url));
  const { url } = await serve({ root, mounts, port });
  console.log(
    `FC-CLIP demo at ${url}/ (app: ${root}${Object.entries(mounts)
      .map(([p, d]) => `, /${p}/: ${d}`)
      .join("")})`,
  );
}
