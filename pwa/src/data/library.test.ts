// Tree suggestions for a ticket's summary, over the real starter library (seeds/trees).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reviewInfo } from "../shared/review";
import { suggestTrees, wordsOf, type LibraryTree } from "./library";

const SEEDS = join(__dirname, "../../../seeds/trees");

const library: LibraryTree[] = readdirSync(SEEDS)
  .filter((f) => f.endsWith(".json"))
  .map((f) => {
    const t = JSON.parse(readFileSync(join(SEEDS, f), "utf8"));
    return {
      id: `tree:${f.replace(/\.json$/, "")}`,
      title: t.title,
      description: t.description || "",
      category: t.category || "Other",
      tags: t.tags || [],
      version: 1,
      updatedAt: "",
      nodeCount: Object.keys(t.nodes).length,
      usage: 0,
      lastUsed: null,
      review: reviewInfo(t, null),
    };
  });

const first = (summary: string) => suggestTrees(library, summary)[0]?.tree.id;

describe("suggestTrees", () => {
  it("finds the tree for summaries written the way clients write tickets", () => {
    expect(first("VDAs not registering with the delivery controller after the reboot")).toBe("tree:citrix-vda-registration");
    expect(first("Site-to-site VPN to the branch office is down since this morning")).toBe("tree:sonicwall-vpn-tunnel-down");
    expect(first("Accounting can't open the mapped S: drive - access denied")).toBe("tree:file-share-access");
    expect(first("Outlook stopped syncing new mail on Karen's laptop")).toBe("tree:outlook-m365-not-syncing");
    expect(first("Nightly Veeam job failed with VSS error")).toBe("tree:veeam-backup-job-failed");
    expect(first("Print jobs stuck in the queue, printer shows offline")).toBe("tree:print-spooler-failures");
    expect(first("SQL01 C: drive almost out of disk space")).toBe("tree:server-disk-space");
    expect(first("User is asked for the BitLocker recovery key at every boot")).toBe("tree:bitlocker-recovery");
  });

  it("ranks by how telling a word is: a word most trees share weighs less than a rare one", () => {
    // "windows" is in several trees; "spooler" in one.
    const ranked = suggestTrees(library, "Windows print spooler crashes");
    expect(ranked[0].tree.id).toBe("tree:print-spooler-failures");
    expect(ranked[0].matched).toContain("spooler");
  });

  it("answers nothing for a summary with no telling word, or no word the library has", () => {
    expect(suggestTrees(library, "")).toEqual([]);
    expect(suggestTrees(library, "please help, it is not working!!")).toEqual([]);
    expect(suggestTrees(library, "Zebra labels smudged")).toEqual([]);
  });

  it("answers at most n trees, each sharing at least one word", () => {
    const ranked = suggestTrees(library, "windows server profile logon dns vpn citrix", 3);
    expect(ranked).toHaveLength(3);
    for (const s of ranked) expect(s.matched.length).toBeGreaterThan(0);
  });

  it("folds case, accents and common English endings", () => {
    expect(wordsOf("Réplication FAILING")).toEqual(wordsOf("replication failed"));
    expect(wordsOf("registering")).toEqual(wordsOf("registration"));
  });
});
