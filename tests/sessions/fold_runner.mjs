// Runs the PWA's TypeScript fold for the Python parity test. Bundled once per test session
// by esbuild; reads one JSON batch per line on stdin ([{tree, events, header, client,
// now_ms}, ...]) and answers one line with the folded states, so one node process serves
// every Hypothesis example.
import { createInterface } from "node:readline";
import { foldSession } from "../../pwa/src/shared/fold.ts";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const cases = JSON.parse(line);
    answer = { states: cases.map((c) => foldSession(c.tree, c.events, c.header, c.client, c.now_ms)) };
  } catch (error) {
    answer = { error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
