// Shrinks a release build's JS glue and wasm in place, then fixes their Subresource Integrity
// hashes in index.html. `cargo xtask` runs it after `trunk build --release`:
// - the wasm's imports (one per JS shim, named `__wbg_<name>_<16 hex>` by wasm-bindgen, and the
//   module `./<crate>_bg.js`) get short names, in the wasm and in the JS object that provides them:
//   ~7 KB gzip less for the app;
// - terser minifies the JS (Trunk 0.21's own minifier cannot parse wasm-bindgen 0.2.130's output,
//   so it warns and ships it as is).
// Anything unexpected (an import the JS does not name exactly once) fails the build rather than
// shipping a broken app.
// Usage: node minify.mjs <dist dir>
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { minify } from 'terser';

const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');

function fail(message) {
  console.error(`minify: ${message}`);
  process.exit(1);
}

function readLeb(buf, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

const name = (s) => {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([leb(bytes.length), bytes]);
};

// Import entries of a wasm module: [{ module, field, desc (the bytes after the names) }], and
// where the import section is.
function imports(wasm) {
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    if (id === 2) {
      const entries = [];
      let [count, p] = readLeb(wasm, body);
      const str = () => {
        const [len, start] = readLeb(wasm, p);
        p = start + len;
        return wasm.subarray(start, p).toString('utf8');
      };
      while (count-- > 0) {
        const module = str();
        const field = str();
        const start = p;
        const kind = wasm[p++];
        if (kind === 0) {
          p = readLeb(wasm, p)[1]; // function: type index
        } else if (kind === 1 || kind === 2) {
          if (kind === 1) p++; // table: element type
          const flags = wasm[p++];
          p = readLeb(wasm, p)[1];
          if (flags & 1) p = readLeb(wasm, p)[1];
        } else if (kind === 3) {
          p += 2; // global: value type, mutability
        } else {
          fail(`import kind ${kind} is not understood`);
        }
        entries.push({ module, field, desc: wasm.subarray(start, p) });
      }
      return { entries, start: at, end: body + size };
    }
    at = body + size;
  }
  return null;
}

// Short import names: the wasm's import section rewritten, and the JS's keys renamed to match.
function renameImports(wasm, js) {
  const section = imports(wasm);
  if (!section) return { wasm, js };
  const modules = new Set(section.entries.map((e) => e.module));
  const renamed = new Map();
  let shortModule = null;
  for (const module of modules) {
    if (!module.endsWith('_bg.js')) continue;
    const quoted = JSON.stringify(module);
    if (js.split(quoted).length !== 2) fail(`the JS does not name ${quoted} once`);
    shortModule = 'w';
    js = js.replace(quoted, JSON.stringify(shortModule));
    renamed.set(module, shortModule);
  }
  let n = 0;
  const entries = section.entries.map((e) => {
    if (!renamed.has(e.module)) return e;
    const short = `_${(n++).toString(36)}`;
    const escaped = e.field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`, 'g');
    const uses = js.match(pattern)?.length ?? 0;
    if (uses !== 1) fail(`the JS names the import ${e.field} ${uses} times, not once`);
    js = js.replace(pattern, short);
    return { module: renamed.get(e.module), field: short, desc: e.desc };
  });
  const body = Buffer.concat([
    leb(entries.length),
    ...entries.flatMap((e) => [name(e.module), name(e.field), e.desc]),
  ]);
  const out = Buffer.concat([
    wasm.subarray(0, section.start),
    Buffer.from([2]),
    leb(body.length),
    body,
    wasm.subarray(section.end),
  ]);
  if (!WebAssembly.validate(out)) fail('the rewritten wasm does not validate');
  const check = WebAssembly.Module.imports(new WebAssembly.Module(out));
  if (check.length !== entries.length || check.some((c, i) => c.name !== entries[i].field)) {
    fail('the rewritten wasm does not import what was written');
  }
  return { wasm: out, js };
}

const dist = process.argv[2];
if (!dist) {
  console.error('usage: node minify.mjs <dist dir>');
  process.exit(2);
}
const indexPath = join(dist, 'index.html');
let index = readFileSync(indexPath, 'utf8');
// The service worker is written later from the final files; only the app's glue is touched.
const files = readdirSync(dist);
// A split build (xtask/src/split.rs) has its chunks' loader inside this JS, and chunk-*.wasm
// files beside it, which import nothing from the JS (only the main module's memory and table).
const glue = files.filter((f) => f.endsWith('.js') && f !== 'sw.js');
if (glue.length !== 1) fail(`expected one JS glue file in ${dist}, found ${glue.length}`);
const jsPath = join(dist, glue[0]);
const wasmName = glue[0].replace(/\.js$/, '_bg.wasm');
if (!files.includes(wasmName)) fail(`no ${wasmName} beside ${glue[0]}`);
const wasmPath = join(dist, wasmName);

const jsBefore = readFileSync(jsPath);
const wasmBefore = readFileSync(wasmPath);
const renamed = renameImports(wasmBefore, jsBefore.toString('utf8'));
const out = await minify(renamed.js, {
  module: true,
  ecma: 2020,
  compress: { passes: 2 },
  mangle: true,
  format: { comments: false },
});
const jsAfter = Buffer.from(out.code, 'utf8');

for (const [path, before, after] of [
  [jsPath, jsBefore, jsAfter],
  [wasmPath, wasmBefore, renamed.wasm],
]) {
  const oldHash = sri(before);
  if (!index.includes(oldHash)) fail(`index.html has no integrity ${oldHash} for ${path}`);
  writeFileSync(path, after);
  index = index.split(oldHash).join(sri(after));
  console.log(`minify: ${path} ${before.length} -> ${after.length} bytes`);
}
writeFileSync(indexPath, index);
