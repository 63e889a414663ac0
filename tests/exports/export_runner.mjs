// Runs the PWA's TypeScript exports for the Python parity test. Bundled once per test session
// by esbuild; reads one JSON batch per line on stdin ([{bundle, options, tenant, names}, ...])
// and answers one line with [{markdown, text}, ...], so one node process serves every example.
import { createInterface } from "node:readline";
import { buildExportModel, renderMarkdown, renderText } from "../../pwa/src/shared/export.ts";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const cases = JSON.parse(line);
    answer = {
      outputs: cases.map((c) => {
        const model = buildExportModel(c.bundle, c.options, c.tenant, c.names);
        return { markdown: renderMarkdown(model), text: renderText(model) };
      }),
    };
  } catch (error) {
    answer = { error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
