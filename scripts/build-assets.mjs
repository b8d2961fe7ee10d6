// Copies the Swagger UI files /docs needs out of node_modules: a fresh clone does not have them.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const source = dirname(require.resolve("swagger-ui-dist/package.json"));
const target = new URL("../public/docs/vendor/", import.meta.url).pathname;

mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "oauth2-redirect.html", "oauth2-redirect.js"]) {
  copyFileSync(join(source, file), join(target, file));
}
