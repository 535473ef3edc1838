// Renders public/icon.svg into the app's PNG icons: `cargo xtask icons` runs it (`--check` only
// compares). The PNGs are committed because they go into device flash; this script is how they
// are remade, with pinned packages (package-lock.json), so the same SVG gives the same bytes.
//
// icon-192.png, icon-512.png: the SVG as drawn (a rounded square, transparent corners).
// icon-maskable.png: full-bleed background with the mark shrunk into the maskable safe zone (a
// centred circle of 40% radius), for Android's adaptive icons and iOS' apple-touch-icon, which
// both cut their own shape and must not show transparent corners.
import { Resvg } from '@resvg/resvg-js';
import UPNG from 'upng-js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PUBLIC = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../public');
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

const check = process.argv.includes('--check');
let stale = 0;
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
