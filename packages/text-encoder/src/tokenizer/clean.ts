/**
 * open_clip's text cleaning: ftfy.fix_text → html.unescape twice → strip → collapse whitespace → lower-case.
 * ftfy is approximated by Unicode NFC normalisation (its default `normalization`); its mojibake repair is not
 * reproduced, so text with encoding damage may tokenise differently. html.unescape handles numeric references and
 * the named entities below (the full HTML5 table is not carried).
 */
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  copy: "\u00a9",
  reg: "\u00ae",
  trade: "\u2122",
  hellip: "\u2026",
  mdash: "\u2014",
  ndash: "\u2013",
  lsquo: "\u2018",
  rsquo: "\u2019",
  ldquo: "\u201c",
  rdquo: "\u201d",
  deg: "\u00b0",
  eacute: "\u00e9",
  egrave: "\u00e8",
  agrave: "\u00e0",
  ccedil: "\u00e7",
  uuml: "\u00fc",
  ouml: "\u00f6",
  auml: "\u00e4",
  szlig: "\u00df",
  times: "\u00d7",
  middot: "\u00b7",
};

function unescapeHtml(s: string): string {
  return s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z]+);?/g, (m, body: string) => {
    if (body[0] === "#") {
      const code =
        body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0)
        return "\ufffd";
      return String.fromCodePoint(code);
    }
    const named = NAMED[body];
    // Python unescapes a known entity without its ';' only for a legacy subset; requiring it for the rest matches.
    return named !== undefined && (m.endsWith(";") || ["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"].includes(body))
      ? named
      : m;
  });
}

export function cleanText(text: string): string {
  let t = text.normalize("NFC");
  t = unescapeHtml(unescapeHtml(t)).trim();
  return t.replace(/\s+/gu, " ").trim().toLowerCase();
}
