/**
 * The benchmark's minimal-stack ceiling: the least a durable order server
 * can do on this stack, and as fast as the stack allows it. It greets as
 * the real server does, reads NDJSON (`JSON.parse` per line), validates
 * each order with the project's zod schema (`lib/wire/schema.ts`), stores
 * the valid ones with one multi-row `INSERT` per event-loop turn into
 * `node:sqlite` (WAL, `synchronous=FULL`, so each commit is fsynced), and
 * only then answers each line as the real server does
 * (`{"ok":true,"id":N,…}`, or the failure with its `codigo`). Nothing
 * else: no workers, no admission limit, no statistics, no logs per order.
 *
 * What `deno task load` reaches against it is what parse, validate, durable
 * batched insert and reply cost together on this machine: the real server
 * does all of that and more, so this is the rate it is compared with.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write tools/bench/minimal_server.ts --db /tmp/m.db
 * ```
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { z } from "zod";
import { type FlagSpec, HELP_FLAG, parseCommand, runMain, usage } from "../../lib/util/cli.ts";
import { writeAll } from "../../lib/util/net.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../lib/wire/framing.ts";
import { encodeLine, failure, greeting, invalidRequest } from "../../lib/wire/protocol.ts";
import { type Order, parseOrder } from "../../lib/wire/schema.ts";
import {
  acceptedLine,
  LISTEN_FLAGS,
  listenFlagsShape,
  serveUntilStopped,
} from "./ceiling_server.ts";

const FLAGS: readonly FlagSpec[] = [
  ...LISTEN_FLAGS,
  {
    name: "db",
    type: "string",
    placeholder: "RUTA",
    description: "base de datos SQLite en la que guardar los pedidos (obligatoria)",
  },
  HELP_FLAG,
];

const flagsSchema = z.object({
  ...listenFlagsShape,
  db: z.string({ error: "falta la base de datos (--db RUTA)" })
    .min(1, { error: "no puede estar vacío" }),
});

const READ_BYTES = 64 * 1024;
/** Columns bound per stored order: id, cliente, productos, direccion, fecha_recibido. */
const COLUMNS = 5;
/**
 * Rows per `INSERT`: a whole batch of the bench's pipelined runs (4 × 64 in
 * flight) in one statement, and 1 280 bound values, far below SQLite's
 * 32 766. A larger batch takes several statements in one transaction.
 */
const MAX_ROWS = 256;
const encoder = new TextEncoder();

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS pedidos (
    id             INTEGER PRIMARY KEY,
    cliente        TEXT NOT NULL,
    productos      TEXT NOT NULL,
    direccion      TEXT NOT NULL,
    fecha_recibido TEXT NOT NULL
  )`;

/** A running minimal server. */
export interface MinimalServer extends AsyncDisposable {
  readonly port: number;
  /** Stops accepting, commits and answers what it holds, closes every connection and the database. */
  close(): Promise<void>;
}

/** The orders of one event-loop turn, committed together. */
class Batch {
  /** Bound values, {@linkcode COLUMNS} per order. */
  values: SQLInputValue[] = [];
  /** The connections holding replies that wait for this commit. */
  clients: Client[] = [];
}

/** One connection: its socket, and the replies it holds until the next commit. */
class Client {
  readonly conn: Deno.TcpConn;
  /** Replies to the lines read this turn, in order; sent after the commit. */
  held = "";
  /** Already in the turn's batch. */
  queued = false;
  /** Nothing more will be read: close once the held replies are written. */
  ending = false;
  /** Every write so far, one after another. */
  writes: Promise<void> = Promise.resolve();
  readonly #onClosed: (client: Client) => void;
  #closed = false;

  constructor(conn: Deno.TcpConn, onClosed: (client: Client) => void) {
    this.conn = conn;
    this.#onClosed = onClosed;
  }

  /** Sends the held replies after whatever this connection is still writing. */
  release() {
    this.queued = false;
    const bytes = encoder.encode(this.held);
    this.held = "";
    this.writes = this.writes.then(() => writeAll(this.conn, bytes)).catch(() => this.close());
    if (this.ending) this.end();
  }

  /** Closes once every write so far is done. */
  end() {
    this.writes = this.writes.then(() => this.close());
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClosed(this);
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

const NOT_JSON = encodeLine(failure("json_invalido"));
const NOT_AN_OBJECT = encodeLine(failure("json_invalido", "se esperaba un objeto JSON"));
const TOO_LARGE = encodeLine(failure("demasiado_grande"));

/**
 * Starts the minimal server on `hostname:port` (0 picks a free port) with
 * its orders in the SQLite file `db`, created if missing.
 *
 * @example
 * ```ts
 * await using server = startMinimalServer({ hostname: "127.0.0.1", port: 0, db: "/tmp/m.db" });
 * console.log(server.port);
 * ```
 * @throws {Error} if `db` cannot be opened or holds a `pedidos` table of another shape
 */
export function startMinimalServer(
  options: { hostname: string; port: number; db: string },
): MinimalServer {
  const db = new DatabaseSync(options.db);
  let listener: Deno.TcpListener;
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec(SCHEMA);
    listener = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (error) {
    db.close();
    throw error;
  }
  const statements = new Map<number, StatementSync>();
  /** The multi-row INSERT of `rows` orders, prepared once per size. */
  const insert = (rows: number) => {
    let statement = statements.get(rows);
    if (!statement) {
      const row = `(${new Array(COLUMNS).fill("?").join(", ")})`;
      statement = db.prepare(
        "INSERT INTO pedidos (id, cliente, productos, direccion, fecha_recibido) VALUES " +
          new Array(rows).fill(row).join(", "),
      );
      statements.set(rows, statement);
    }
    return statement;
  };
  const begin = db.prepare("BEGIN");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");
  let nextId =
    (db.prepare("SELECT coalesce(max(id), 0) + 1 AS next FROM pedidos").get() as { next: number })
      .next;
  // Checked now, so that a file of another shape is refused at start and not at the first order.
  insert(1);
  const greetingBytes = encoder.encode(encodeLine(greeting({ max: 1, libres: 1 }, "minimo")));

  let batch = new Batch();
  let scheduled = false;

  /** Commits the turn's orders, then releases every reply that waited for it. */
  const flush = () => {
    scheduled = false;
    const { values, clients } = batch;
    batch = new Batch();
    const rows = values.length / COLUMNS;
    let stored = true;
    if (rows > 0) {
      try {
        if (rows <= MAX_ROWS) {
          // One statement is its own transaction: no BEGIN/COMMIT needed.
          insert(rows).run(...values);
        } else {
          begin.run();
          try {
            for (let from = 0; from < rows; from += MAX_ROWS) {
              const size = Math.min(MAX_ROWS, rows - from);
              insert(size).run(...values.slice(from * COLUMNS, (from + size) * COLUMNS));
            }
            commit.run();
          } catch (error) {
            rollback.run();
            throw error;
          }
        }
      } catch (error) {
        // Nothing of the turn is stored: its connections are closed rather than
        // answered, since an `ok` must mean the order was committed.
        stored = false;
        console.error(
          `servidor mínimo: no se pudo guardar un lote de ${rows} pedidos: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
    }
    for (const client of clients) {
      if (stored) client.release();
      else client.close();
    }
  };

  /** Answers (later, after the commit) one line; valid orders join the turn's batch. */
  const handle = (client: Client, line: string, recibido: string) => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      client.held += NOT_JSON;
      return;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      client.held += NOT_AN_OBJECT;
      return;
    }
    const validation = parseOrder(message as Record<string, unknown>);
    if (!validation.ok) {
      client.held += encodeLine(invalidRequest(validation.errores));
      return;
    }
    const order = validation.request as Order;
    const id = nextId++;
    batch.values.push(
      id,
      order.cliente,
      JSON.stringify(order.productos),
      order.direccion,
      recibido,
    );
    client.held += acceptedLine(id);
  };

  const connections = new Set<Client>();
  const served = new Set<Promise<void>>();

  /** Puts the connection's held replies in the turn's batch, once. */
  const enqueue = (client: Client) => {
    if (client.queued) return;
    client.queued = true;
    batch.clients.push(client);
    ensureFlush();
  };

  const serve = async (client: Client) => {
    const { conn } = client;
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(READ_BYTES);
    let rest = "";
    try {
      conn.setNoDelay(true);
      await writeAll(conn, greetingBytes);
      while (true) {
        const count = await conn.read(buffer);
        if (count === null) return;
        const text = rest + decoder.decode(buffer.subarray(0, count), { stream: true });
        const recibido = new Date().toISOString();
        let from = 0;
        for (let lf = text.indexOf("\n"); lf !== -1; lf = text.indexOf("\n", from)) {
          if (lf > from) handle(client, text.slice(from, lf), recibido);
          from = lf + 1;
        }
        rest = text.slice(from);
        // Counted in UTF-16 units rather than bytes: near enough for a line that is not an order.
        if (rest.length > DEFAULT_MAX_MESSAGE_BYTES) {
          // Answered after the lines before it; then the connection is closed.
          client.held += TOO_LARGE;
          return;
        }
        if (client.held !== "") enqueue(client);
      }
    } catch {
      // The client went away or the server is closing; nothing to clean up but the socket.
    } finally {
      client.ending = true;
      if (client.held !== "") enqueue(client);
      else if (!client.queued) client.end();
    }
  };

  // One commit per event-loop turn: setImmediate runs once the turn's reads have
  // all been handled, without the minimum delay of a timer.
  const ensureFlush = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const client = new Client(conn, (closed) => connections.delete(closed));
        connections.add(client);
        const done = serve(client).finally(() => served.delete(done));
        served.add(done);
      }
    } catch {
      // The listener was closed.
    }
  })();

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      await accepting;
      // What was read is committed and answered before the connections close.
      if (scheduled) flush();
      await Promise.all([...connections].map((client) => client.writes));
      for (const client of connections) client.close();
      await Promise.all(served);
      // Lines read meanwhile are stored, though their connections are gone.
      if (scheduled) flush();
      db.close();
    })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function main(args: string[]): Promise<number> {
  const flags = parseCommand(args, FLAGS, flagsSchema);
  if (!flags) {
    console.log(usage(
      "deno run --allow-net --allow-read --allow-write tools/bench/minimal_server.ts --db RUTA [opciones]",
      "Servidor mínimo (techo del benchmark): saluda, valida cada pedido con zod, lo guarda en " +
        "SQLite (WAL, synchronous=FULL, un INSERT de varias filas por vuelta del bucle de eventos) " +
        "y solo entonces responde ok. Nada más.",
      FLAGS,
      "\nSIGINT o SIGTERM lo detienen.\n",
    ));
    return 0;
  }
  const host = flags.host ?? "127.0.0.1";
  const server = startMinimalServer({ hostname: host, port: flags.port ?? 0, db: flags.db });
  await serveUntilStopped("servidor mínimo", host, server);
  return 0;
}

if (import.meta.main) {
  await runMain(
    "servidor mínimo",
    () => main(Deno.args),
    "deno run tools/bench/minimal_server.ts",
  );
}
