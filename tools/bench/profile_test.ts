import assert from "node:assert/strict";
import { type CpuProfile, PROFILE_CATEGORIES, summarizeProfile } from "./profile.ts";

/** A profile tree: root → timers → group_commit → store → (native run); root → framing; idle. */
function sampleProfile(): CpuProfile {
  const frame = (functionName: string, url = "") => ({ functionName, url });
  return {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 6, 7, 8] },
      { id: 2, callFrame: frame("processTimers", "ext:core/02_timers.js"), children: [3] },
      { id: 3, callFrame: frame("flush", "file:///p/lib/store/group_commit.ts"), children: [4] },
      { id: 4, callFrame: frame("commit", "file:///p/lib/store/sqlite.ts"), children: [5] },
      { id: 5, callFrame: frame("run") },
      { id: 6, callFrame: frame("push", "file:///p/lib/wire/framing.ts") },
      { id: 7, callFrame: frame("(idle)") },
      { id: 8, callFrame: frame("(garbage collector)") },
    ],
    samples: [5, 5, 5, 4, 3, 6, 7, 7, 8, 2],
  };
}

Deno.test("each sample counts for the innermost known part of the server on its stack", () => {
  const summary = summarizeProfile(sampleProfile());
  assert.equal(summary.samples, 10);
  assert.equal(
    summary.shares["SQLite (store/sqlite.ts)"],
    0.4,
    "native run under store.ts is SQLite",
  );
  assert.equal(summary.shares["order service, group commit, replies"], 0.1);
  assert.equal(summary.shares["framing (wire/framing.ts)"], 0.1);
  assert.equal(summary.shares["idle"], 0.2);
  assert.equal(summary.shares["garbage collection"], 0.1);
  assert.equal(summary.shares["runtime (timers, promises, I/O)"], 0.1);
  const total = PROFILE_CATEGORIES.reduce((sum: number, c) => sum + (summary.shares[c] ?? 0), 0);
  assert.ok(Math.abs(total - 1) < 1e-9);
});

Deno.test("an empty profile has all shares zero", () => {
  const summary = summarizeProfile({ nodes: [], samples: [] });
  assert.equal(summary.samples, 0);
  for (const category of PROFILE_CATEGORIES) assert.equal(summary.shares[category], 0);
});
