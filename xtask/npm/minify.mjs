// Minifies the wasm-bindgen JS glue of a release build in place and fixes its Subresource
// Integrity hash in index.html. Trunk 0.21's own minifier cannot parse wasm-bindgen 0.2.130's
// output (it warns and ships the JS as is), so `cargo xtask` runs this after `trunk build --release`.
// Usage: node minify.mjs <dist dir>
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { minify } from 'terser';

const dist = process.argv[2];
if (!dist) {
  console.error('usage: node minify.mjs <dist dir>');
  process.exit(2);
}
const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');

const indexPath = join(dist, 'index.html');
let index = readFileSync(indexPath, 'utf8');
// The service worker is written later from the final files; only the app's glue is minified.
const glue = readdirSync(dist).filter((f) => f.endsWith('.js') && f !== 'sw.js');
if (glue.length === 0) {
  console.error(`minify: no JS glue in ${dist}`);
  process.exit(1);
}
for (const name of glue) {
  const path = join(dist, name);
  const before = readFileSync(path);
  const out = await minify(before.toString('utf8'), {
    module: true,
    ecma: 2020,
    compress: { passes: 2 },
    mangle: true,
    format: { comments: false },
  });
  const after = Buffer.from(out.code, 'utf8');
  const oldHash = sri(before);
  const newHash = sri(after);
  if (!index.includes(oldHash)) {
    console.error(`minify: index.html has no integrity ${oldHash} for ${name}; not touching it`);
    process.exit(1);
  }
  writeFileSync(path, after);
  index = index.split(oldHash).join(newHash);
  console.log(`minify: ${name} ${before.length} -> ${after.length} bytes`);
}
writeFileSync(indexPath, index);
