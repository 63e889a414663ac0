// Runs the PWA's TypeScript checklist layout for the Python parity test. Bundled once per test
// session by esbuild; reads one JSON batch of trees per line on stdin and answers one line with
// the layout of each, so one node process serves every Hypothesis example.
import { createInterface } from "node:readline";
import { checklistLayout } from "../../pwa/src/shared/checklist.ts";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    answer = { results: JSON.parse(line).map((tree) => checklistLayout(tree)) };
  } catch (error) {
    answer = { error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
