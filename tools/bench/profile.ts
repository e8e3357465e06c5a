/**
 * Where the server's main thread spends its time: a V8 CPU profile
 * summarised into the server's parts (SQLite, workers, validation, ...).
 * Pure: a profile in, shares out.
 *
 * @module
 */

/** The parts of a V8 `.cpuprofile` the summary uses. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }[];
  samples: number[];
}

/** Where the main thread's time went, by category, as fractions of all samples. */
export interface ProfileSummary {
  samples: number;
  /** Category name → fraction of samples, summing to 1. */
  shares: Record<string, number>;
}

/** Profile categories in display order; a sample goes to the first match walking from its leaf. */
export const PROFILE_CATEGORIES = [
  "SQLite (store/sqlite.ts)",
  "messages to and from workers (orders/pool.ts)",
  "validation (wire/schema.ts, zod)",
  "framing (wire/framing.ts)",
  "connection and sockets (server/connection.ts)",
  "order service, group commit, replies",
  "runtime (timers, promises, I/O)",
  "garbage collection",
  "idle",
] as const;

/** One profile category. */
export type ProfileCategory = typeof PROFILE_CATEGORIES[number];

function categoryOfFrame(
  frame: { functionName: string; url: string },
): ProfileCategory | undefined {
  const { url, functionName } = frame;
  if (url.endsWith("/lib/store/sqlite.ts")) return "SQLite (store/sqlite.ts)";
  if (
    url.endsWith("/lib/orders/pool.ts") || url.endsWith("/lib/orders/work.ts") ||
    url.includes("11_workers.js") || url.includes("13_message_port.js")
  ) return "messages to and from workers (orders/pool.ts)";
  if (url.endsWith("/lib/wire/schema.ts") || url.includes("/zod/")) {
    return "validation (wire/schema.ts, zod)";
  }
  if (url.endsWith("/lib/wire/framing.ts")) return "framing (wire/framing.ts)";
  if (url.endsWith("/lib/server/connection.ts")) {
    return "connection and sockets (server/connection.ts)";
  }
  if (/\/lib\/(orders|store|server|stats|wire)\/[a-z_]+\.ts$/.test(url)) {
    return "order service, group commit, replies";
  }
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)") return "idle";
  return undefined;
}

/**
 * Attributes every sample of a profile to the innermost frame that belongs
 * to a known part of the server (so SQLite called by the group commit counts
 * as SQLite); samples in no known part count as runtime.
 *
 * @example
 * ```ts
 * summarizeProfile(profile).shares["SQLite (store/sqlite.ts)"]; // e.g. 0.31
 * ```
 */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const parent = new Map<number, number>();
  const byId = new Map<number, CpuProfile["nodes"][number]>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const categoryOfNode = new Map<number, ProfileCategory>();
  const resolve = (id: number): ProfileCategory => {
    const known = categoryOfNode.get(id);
    if (known) return known;
    const node = byId.get(id);
    const own = node ? categoryOfFrame(node.callFrame) : undefined;
    const up = parent.get(id);
    const category = own ?? (up === undefined ? "runtime (timers, promises, I/O)" : resolve(up));
    categoryOfNode.set(id, category);
    return category;
  };
  const counts = new Map<ProfileCategory, number>();
  for (const id of profile.samples) {
    const category = resolve(id);
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  const shares: Record<string, number> = {};
  for (const category of PROFILE_CATEGORIES) {
    shares[category] = profile.samples.length
      ? (counts.get(category) ?? 0) / profile.samples.length
      : 0;
  }
  return { samples: profile.samples.length, shares };
}
