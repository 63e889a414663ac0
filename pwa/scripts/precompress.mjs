// After `vite build`: writes NAME.br and NAME.gz beside every text asset in dist/, so the
// server answers with the smallest encoding the browser accepts without compressing on each
// request (api/web.py picks the file by Accept-Encoding). Compressing once at build time
// affords the slowest, smallest settings. A variant that would not be smaller is not written.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|webmanifest|txt|xml)$/;

const dist = fileURLToPath(new URL("../dist/", import.meta.url));

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (COMPRESSIBLE.test(name)) yield path;
  }
}

const encoders = {
  br: (data) =>
    brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }),
  gz: (data) => gzipSync(data, { level: 9 }),
};

let before = 0;
let after = 0;
let count = 0;
for (const path of files(dist)) {
  const data = readFileSync(path);
  let smallest = data.length;
  for (const [suffix, encode] of Object.entries(encoders)) {
    const packed = encode(data);
    if (packed.length >= data.length) continue;
    writeFileSync(`${path}.${suffix}`, packed);
    smallest = Math.min(smallest, packed.length);
  }
  before += data.length;
  after += smallest;
  count += 1;
  if (process.env.PRECOMPRESS_VERBOSE) console.log(`${relative(dist, path)}: ${data.length} -> ${smallest}`);
}
console.log(`precompressed ${count} files: ${(before / 1024).toFixed(1)} KiB -> ${(after / 1024).toFixed(1)} KiB (smallest encoding)`);
