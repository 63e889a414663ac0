// The app's Markdown and text exports against the same hand-checked fixtures as the server's
// (tests/golden/exports/NAME.json in, NAME.md and NAME.txt out). Nothing here rewrites them:
// when this fails, the code is wrong until someone re-derives the expected text by hand.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildExportModel, mdInline, renderMarkdown, renderText } from "./export";
import { foldSession } from "./fold";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const goldenDir = join(root, "tests/golden/exports");
const read = (path: string) => readFileSync(path, "utf-8");
const fixtures = readdirSync(goldenDir)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => ({ name: name.replace(/\.json$/, ""), fx: JSON.parse(read(join(goldenDir, name))) }));

type Fixture = Parameters<typeof buildExportModel>[0] & {
  options?: Parameters<typeof buildExportModel>[1];
  tenant?: unknown;
  engineer_names?: Parameters<typeof buildExportModel>[3];
};

function model(fx: Fixture) {
  return buildExportModel(fx, fx.options, fx.tenant, fx.engineer_names);
}

describe("golden export fixtures", () => {
  it("are present", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(4);
  });

  for (const { name, fx } of fixtures) {
    it(`${name}: Markdown is byte-identical to ${name}.md`, () => {
      expect(renderMarkdown(model(fx))).toBe(read(join(goldenDir, `${name}.md`)));
    });

    it(`${name}: text is byte-identical to ${name}.txt`, () => {
      expect(renderText(model(fx))).toBe(read(join(goldenDir, `${name}.txt`)));
    });
  }
});

describe("the README's sample export", () => {
  it("is what the app exports for the sample session", () => {
    const fx = JSON.parse(read(join(root, "api/exports/sample_session.json")));
    const section = read(join(root, "api/exports/README_SAMPLE.md"));
    const sample = section.slice(section.indexOf("````markdown\n") + "````markdown\n".length, section.lastIndexOf("````"));
    expect(renderMarkdown(model(fx))).toBe(sample);
  });
});

describe("export details JavaScript makes easy to get wrong", () => {
  it("escapes every character that could change the Markdown", () => {
    expect(mdInline("a*b_c[d]e<f>g|h`i~j\\k &amp; AT&T")).toBe("a\\*b\\_c\\[d\\]e\\<f\\>g\\|h\\`i\\~j\\\\k \\&amp; AT&T");
  });

  it("never lets template syntax from the tree through", () => {
    for (const { fx } of fixtures) {
      const out = renderMarkdown(model(fx)) + renderText(model(fx));
      // The one "{{" in the fixtures is text an engineer typed in a note, kept as typed.
      expect(out.replaceAll("{{input.share}} stays as typed", "")).not.toContain("{{");
    }
  });

  it("uses the state in the bundle instead of folding again", () => {
    const fx = fixtures[0].fx;
    const state = { ...foldSession(fx.tree, fx.events, fx.header, fx.client, fx.now_ms), path: [], custom_steps: [], tried: [] };
    const m = buildExportModel({ ...fx, state }, fx.options, fx.tenant, fx.engineer_names);
    expect(m.steps).toEqual([]);
    expect(renderText(m)).toContain("No steps were recorded.");
  });
});
