// The JavaScript and CSS steps of the release build (scripts/build-release.sh),
// with the libraries cargo-leptos 0.3.10 uses, at the same versions (from npm):
//   node scripts/site-tools.mjs minify-js FILE     swc: minify in place
//   node scripts/site-tools.mjs css SRC DEST       lightningcss: minify for the browsers below
// The packages come from $BACKUP_MGMT_TOOLS_DIR/node_modules (@swc/core, lightningcss).
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.env.BACKUP_MGMT_TOOLS_DIR ?? ".", "package.json"));
const [command, source, destination] = process.argv.slice(2);

if (command === "minify-js") {
  const { minify } = require("@swc/core");
  const { code } = await minify(readFileSync(source, "utf8"), { compress: true, mangle: true, module: true });
  writeFileSync(source, code);
} else if (command === "css") {
  const { transform } = require("lightningcss");
  const version = (major, minor = 0, patch = 0) => (major << 16) | (minor << 8) | patch;
  // `browserquery = "defaults"` as cargo-leptos 0.3.10 resolves it (browserslist-rs 0.19
  // with browserslist-data 0.1.5). Written out because lightningcss from npm carries
  // older browser data and would resolve "defaults" to other versions.
  const targets = {
    android: version(143), chrome: version(109), edge: version(142), firefox: version(128),
    ios_saf: version(18, 5), opera: version(80), safari: version(26, 1), samsung: version(28),
  };
  // cargo-leptos appends a newline (where Tailwind's output would go) before parsing.
  const input = Buffer.concat([readFileSync(source), Buffer.from("\n")]);
  const { code } = transform({ filename: source, code: input, minify: true, targets });
  writeFileSync(destination, code);
} else {
  console.error("usage: site-tools.mjs minify-js FILE | css SOURCE DESTINATION");
  process.exit(2);
}
