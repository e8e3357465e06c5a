/**
 * Reads an `strace -f -y -s N` log of a server to check the order that
 * durability needs: no reply carrying an order's id is sent before an
 * fsync/fdatasync of the `-wal` that completed after the first write of
 * that order's row to the `-wal`. Rows are found by their `cliente`, which
 * the test makes unique and SQLite stores as plain text in its pages.
 * Pure: a log in, findings out.
 */

/** One order as the test sent it and the server answered it. */
export interface TracedOrder {
  cliente: string;
  id: number;
}

/** What the log shows for one order, as line numbers (0-based); -1 if never seen. */
export interface OrderTrace extends TracedOrder {
  /** First write to the `-wal` carrying the order's row. */
  walWrite: number;
  /** First send on a socket carrying the reply with its id. */
  reply: number;
  /** First completed sync of the `-wal` after `walWrite`. */
  syncAfter: number;
}

const SOCKET_SEND = /^\d+ +(?:sendto|sendmsg|write|writev)\(\d+<(?:socket|TCP|TCPv6):/;

/** `(fd<path>` as `strace -y` prints a descriptor of the file at `path`. */
function descriptorOf(path: string): string {
  return `\\(\\d+<${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}>`;
}

/**
 * Line numbers at which a sync of the `-wal` completed: the line itself
 * when the call is on one line, or its `<... resumed>` line when another
 * thread's call came in between.
 */
export function walSyncsCompleted(lines: readonly string[], walPath: string): number[] {
  const syncStart = new RegExp(`^(\\d+) +f(?:data)?sync${descriptorOf(walPath)}`);
  const done: number[] = [];
  const pendingByPid = new Set<string>();
  lines.forEach((line, index) => {
    const start = line.match(syncStart);
    if (start) {
      if (line.includes("<unfinished ...>")) pendingByPid.add(start[1]!);
      else if (/= 0$/.test(line)) done.push(index);
      return;
    }
    const resumed = line.match(/^(\d+) +<\.\.\. f(?:data)?sync resumed>.*= 0$/);
    if (resumed && pendingByPid.delete(resumed[1]!)) done.push(index);
  });
  return done;
}

/** Where each order's row, sync and reply appear in the log. */
export function traceOrders(
  log: string,
  walPath: string,
  orders: readonly TracedOrder[],
): OrderTrace[] {
  const lines = log.split("\n");
  const syncs = walSyncsCompleted(lines, walPath);
  const walWrite = new RegExp(`^\\d+ +p?writev?(?:64)?${descriptorOf(walPath)}`);
  const walWrites: number[] = [];
  const sends: number[] = [];
  lines.forEach((line, index) => {
    if (walWrite.test(line)) walWrites.push(index);
    else if (SOCKET_SEND.test(line)) sends.push(index);
  });
  return orders.map(({ cliente, id }) => {
    const walWrite = walWrites.find((index) => lines[index]!.includes(cliente)) ?? -1;
    const reply = sends.find((index) => lines[index]!.includes(`\\"id\\":${id},`)) ?? -1;
    const syncAfter = walWrite < 0 ? -1 : syncs.find((index) => index > walWrite) ?? -1;
    return { cliente, id, walWrite, reply, syncAfter };
  });
}

/** Orders whose reply went out before a sync covered their row (or whose row or reply is missing). */
export function repliedBeforeSync(traces: readonly OrderTrace[]): OrderTrace[] {
  return traces.filter((trace) =>
    trace.walWrite < 0 || trace.reply < 0 || trace.syncAfter < 0 ||
    trace.syncAfter > trace.reply
  );
}
