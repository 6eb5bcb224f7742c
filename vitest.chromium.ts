/** Debian's Chromium (`apt-get install chromium`); tests never download a browser of their own. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Flags for headless Chromium on a machine without network or GPU: WebGPU on SwiftShader, and no background
 * connections (this sandbox refuses them, many at a time).
 */
export const CHROMIUM_ARGS = [
  "--enable-unsafe-webgpu",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
