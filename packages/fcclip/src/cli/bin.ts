#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { runFiltered } from "./dawn-notices.js";
import { run } from "./main.js";

// The CLI itself runs in a child whose stdout is cleaned of Dawn's device notices (see dawn-notices.ts).
const CHILD = "FCCLIP_CLI_CHILD";
process.exitCode = process.env[CHILD]
  ? await run(process.argv.slice(2))
  : await runFiltered(fileURLToPath(import.meta.url), process.argv.slice(2), { ...process.env, [CHILD]: "1" });
