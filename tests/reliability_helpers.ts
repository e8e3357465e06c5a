/**
 * Helpers for the reliability and fuzz suites: a seeded random source, a
 * pipelined load driver that keeps a ledger of acknowledged orders, checks of
 * the database against that ledger (`tools/ledger.ts`), and the
 * operating-system probes (a small tmpfs, immutable files) that the fault
 * tests need; process memory and descriptors come from `tools/proc.ts`.
 * Built on `helpers.ts`; real processes and sockets only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { countOrders, readOrders, scriptCommand, SERVER_PERMISSIONS, tempDir } from "./helpers.ts";
import type { StoredOrder } from "../lib/store/types.ts";
import { writeAll } from "../lib/util/net.ts";
import { LineReader } from "../lib/wire/lines.ts";
import { compareTags, listIds, type TagLedger } from "../tools/ledger.ts";

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { seededRandom } from "../lib/util/random.ts";

// ---------------------------------------------------------------------------
// Load with a ledger

/** What a load run learned: which orders it sent and which the server acknowledged. */
export interface Ledger extends TagLedger {
  /** Replies with `ok: false`, by `codigo`. */
  rejected: Map<string, number>;
}

/** Creates an empty ledger. */
export function newLedger(): Ledger {
  return { sent: new Set(), acked: new Map(), rejected: new Map() };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Drives pipelined load on `connections` sockets until `signal` aborts or the
 * server goes away: each socket writes a burst of `burst` orders (NDJSON, one
 * write), then reads their replies, recording every acknowledgement in the
 * ledger. Orders carry unique `cliente` tags `${prefix}-${connection}-${n}`.
 * Never throws: a reset or a closed socket just ends that socket's loop.
 */
export async function pipelinedLoad(
  port: number,
  ledger: Ledger,
  options: { connections: number; burst: number; prefix: string; signal: AbortSignal },
): Promise<void> {
  const loops = [];
  for (let c = 0; c < options.connections; c++) {
    loops.push(loadOneConnection(port, ledger, c, options));
  }
  await Promise.all(loops);
}

async function loadOneConnection(
  port: number,
  ledger: Ledger,
  index: number,
  options: { burst: number; prefix: string; signal: AbortSignal },
): Promise<void> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return;
  }
  const lines = new LineReader(conn);
  const onAbort = () => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  options.signal.addEventListener("abort", onAbort, { once: true });
  try {
    if ((await lines.readLine()) === null) return; // greeting
    let n = 0;
    while (!options.signal.aborted) {
      const tags: string[] = [];
      let text = "";
      for (let i = 0; i < options.burst; i++) {
        const tag = `${options.prefix}-${index}-${n++}`;
        tags.push(tag);
        text += JSON.stringify({ cliente: tag, productos: ["pan"], direccion: "Calle 1" }) + "\n";
      }
      for (const tag of tags) ledger.sent.add(tag);
      await writeAll(conn, encoder.encode(text));
      for (const tag of tags) {
        const line = await lines.readLine();
        if (line === null) return;
        const reply = JSON.parse(line) as { ok: boolean; id?: number; codigo?: string };
        if (reply.ok && typeof reply.id === "number") ledger.acked.set(tag, reply.id);
        else if (!reply.ok) {
          const codigo = reply.codigo ?? "?";
          ledger.rejected.set(codigo, (ledger.rejected.get(codigo) ?? 0) + 1);
        }
      }
    }
  } catch {
    // Reset, closed by abort, or the server died: the ledger holds what was learned.
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    onAbort();
  }
}

// ---------------------------------------------------------------------------
// Checking the database against the ledger

/** Orders whose `cliente` starts with `prefix`, by id. */
export function storedOrders(db: string, prefix: string): Promise<StoredOrder[]> {
  return readOrders(db, { clientePrefix: prefix });
}

/** Counts of orders not yet in a final state. */
export function unfinishedCount(db: string): Promise<number> {
  return countOrders(db, { estados: ["en cola", "en proceso"] });
}

/**
 * The exactly-once contract (`tools/ledger.ts`), checked against the
 * database once the server has finished every order: nothing acknowledged
 * is lost or stored under another id, nothing is stored twice or without
 * having been sent, and every stored row is `listo` (an order stored but
 * not acknowledged, because the crash came first, is finished like the
 * others). Returns the number of rows stored without an acknowledgement.
 */
export async function assertExactlyOnce(
  db: string,
  prefix: string,
  ledger: Ledger,
  context: string,
): Promise<number> {
  const result = compareTags(await storedOrders(db, prefix), ledger);
  const problems = (["lost", "duplicated", "misfiled", "invented", "wrongState"] as const)
    .filter((kind) => result[kind].count > 0)
    .map((kind) => `${kind} ${listIds(result[kind])}`);
  assert.deepEqual(problems, [], `${context}: ${problems.join("; ")}`);
  return result.unacknowledged;
}

// ---------------------------------------------------------------------------
// Processes

/** A server child started without waiting for it to listen (for start-up signals). */
export function spawnServerRaw(args: string[]): {
  child: Deno.ChildProcess;
  output: Promise<{ code: number; signal: Deno.Signal | null; stdout: string; stderr: string }>;
} {
  const child = scriptCommand("server.ts", args, SERVER_PERMISSIONS).spawn();
  const output = child.output().then((result) => ({
    code: result.code,
    signal: result.signal,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  }));
  return { child, output };
}

/** Runs a command to completion; returns whether it succeeded and its stderr. */
export async function run(command: string, args: string[]): Promise<{ ok: boolean; err: string }> {
  try {
    const result = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" })
      .output();
    return { ok: result.success, err: decoder.decode(result.stderr).trim() };
  } catch (error) {
    return { ok: false, err: String(error) };
  }
}

// ---------------------------------------------------------------------------
// Storage faults

/**
 * Mounts a tmpfs of `sizeBytes` on a new folder (needs root, as CI has);
 * `null` where mounting is not permitted. Unmounted and removed on dispose.
 */
export async function smallTmpfs(
  sizeBytes: number,
): Promise<(AsyncDisposable & { path: string }) | null> {
  if (Deno.build.os !== "linux") return null;
  const path = await Deno.makeTempDir({ prefix: "pedidos-tmpfs-" });
  const mounted = await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", path]);
  if (!mounted.ok) {
    await Deno.remove(path, { recursive: true });
    return null;
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      await run("umount", ["-l", path]);
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN on Linux). */
export async function canMountTmpfs(): Promise<boolean> {
  const fs = await smallTmpfs(64 * 1024);
  if (!fs) return false;
  await fs[Symbol.asyncDispose]();
  return true;
}

/** Sets or clears the immutable attribute (`chattr ±i`) on files. */
export async function setImmutable(paths: string[], on: boolean): Promise<boolean> {
  const existing = paths.filter((path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  });
  return (await run("chattr", [on ? "+i" : "-i", ...existing])).ok;
}

/** Whether `chattr +i` works on files in the temporary folder (root on ext4/xfs/btrfs). */
export async function canMakeImmutable(): Promise<boolean> {
  await using dir = await tempDir();
  const file = `${dir.path}/probe`;
  await Deno.writeTextFile(file, "x");
  const ok = await setImmutable([file], true);
  if (ok) await setImmutable([file], false);
  return ok;
}

/** Fills the filesystem holding `dir` with one file until it is full; returns the file. */
export async function fillDisk(dir: string): Promise<string> {
  const path = `${dir}/relleno`;
  using file = await Deno.open(path, { write: true, create: true });
  const block = new Uint8Array(64 * 1024);
  let size = block.length;
  while (size >= 512) {
    try {
      await writeAll(file, block.subarray(0, size));
    } catch {
      size = Math.floor(size / 2);
    }
  }
  return path;
}
