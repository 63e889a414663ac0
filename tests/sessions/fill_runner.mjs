// Runs the PWA's TypeScript filler of tree text for the Python parity test (test_fill.py).
// Reads one JSON batch per line on stdin ([{text, inputs, client}, ...]) and answers one line
// with, for each case, the filled text and the pieces a screen styles.
import { createInterface } from "node:readline";
import { fill, fillParts } from "../../pwa/src/shared/fold.ts";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const cases = JSON.parse(line);
    answer = {
      filled: cases.map((c) => ({ text: fill(c.text, c.inputs, c.client), parts: fillParts(c.text, c.inputs, c.client) })),
    };
  } catch (error) {
    answer = { error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
