// Renders public/icon.svg into the app's PNG icons: `cargo xtask icons` runs it (`--check` only
// compares). The PNGs are committed because they go into device flash; this script is how they
// are remade, with pinned packages (package-lock.json), so the same SVG gives the same bytes.
//
// index.html's favicon: the SVG itself as a data: URL, so that the first load makes no request
// for it (a device serves each request slowly).
// icon-192.png, icon-512.png: the SVG as drawn (a rounded square, transparent corners).
// icon-maskable.png: full-bleed background with the mark shrunk into the maskable safe zone (a
// centred circle of 40% radius), for Android's adaptive icons and iOS' apple-touch-icon, which
// both cut their own shape and must not show transparent corners.
import { Resvg } from '@resvg/resvg-js';
import UPNG from 'upng-js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PUBLIC = path.join(ROOT, 'public');
const INDEX = path.join(ROOT, 'index.html');
/** Palette size: anti-aliased edges of three flat colours need few; fewer colours, fewer bytes. */
const COLOURS = 24;

const svg = readFileSync(path.join(PUBLIC, 'icon.svg'), 'utf8');
const background = svg.match(/<rect [^>]*fill="(#[0-9a-f]{6})"/)?.[1];
const mark = svg.match(/<g id="mark"[\s\S]*?<\/g>/)?.[0];
if (!background || !mark) throw new Error('public/icon.svg needs a <rect fill="#rrggbb"> and a <g id="mark">');
const maskable =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">' +
  `<rect width="512" height="512" fill="${background}"/>` +
  `<g transform="translate(256 256) scale(0.78) translate(-256 -256)">${mark}</g></svg>`;

const outputs = [
  ['icon-192.png', svg, 192],
  ['icon-512.png', svg, 512],
  ['icon-maskable.png', maskable, 512],
];

function render(source, size) {
  const png = new Resvg(source, { fitTo: { mode: 'width', value: size } }).render();
  const rgba = new Uint8Array(png.pixels);
  const quantised = UPNG.encode([rgba.buffer], png.width, png.height, COLOURS);
  return Buffer.from(quantised);
}

/** The SVG as a data: URL: whitespace between tags dropped, single quotes inside the double-quoted
 * attribute, and only what a URL needs escaped. */
const favicon =
  'data:image/svg+xml,' +
  svg
    .replace(/>\s+</g, '><')
    .trim()
    .replaceAll('"', "'")
    .replace(/[%#<>]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const FAVICON_LINK = /<link rel="icon" href="[^"]*" type="image\/svg\+xml">/;

const check = process.argv.includes('--check');
let stale = 0;
const index = readFileSync(INDEX, 'utf8');
const link = `<link rel="icon" href="${favicon}" type="image/svg+xml">`;
if (!FAVICON_LINK.test(index)) throw new Error('index.html needs <link rel="icon" href="..." type="image/svg+xml">');
if (check) {
  if (!index.includes(link)) {
    console.error('index.html\'s favicon is not public/icon.svg: run cargo xtask icons');
    stale++;
  }
} else {
  writeFileSync(INDEX, index.replace(FAVICON_LINK, link));
  console.log(`index.html: favicon is public/icon.svg (${favicon.length} bytes)`);
}
for (const [name, source, size] of outputs) {
  const file = path.join(PUBLIC, name);
  const bytes = render(source, size);
  if (check) {
    let current = null;
    try {
      current = readFileSync(file);
    } catch {}
    if (!current || !current.equals(bytes)) {
      console.error(`public/${name} is not what public/icon.svg renders to: run cargo xtask icons`);
      stale++;
    }
  } else {
    writeFileSync(file, bytes);
    console.log(`public/${name}: ${size}x${size}, ${bytes.length} bytes`);
  }
}
process.exit(stale ? 1 : 0);
