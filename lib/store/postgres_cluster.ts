/**
 * A server's membership of the cluster on one PostgreSQL database.
 *
 * - **Joining.** Each run of a server registers in `pedidos_instancias` and
 *   gets a `sesion`: every order it claims is marked with it, and it may
 *   change only those (see `postgres_sql.ts`). A run that finds its own
 *   instance name's earlier runs there (a restart) puts their orders back
 *   in the queue at once. With no other server alive it also sets the
 *   cluster's limit from `--max`; with others alive, a different `--max` is
 *   refused.
 * - **Lease.** The server renews its row every lease/3 (heartbeat). A row
 *   not renewed for a whole lease, by the database's clock, is a dead
 *   server: any other server forgets it and re-queues its orders (rescue),
 *   just after the lease runs out. A live server, however slow its orders,
 *   keeps renewing, so its orders are never taken from it.
 * - **News.** `LISTEN pedidos_nuevos` wakes the claims as soon as orders
 *   are inserted or rescued anywhere; `LISTEN pedidos_terminados` tells
 *   which orders finished, on whatever server, for the `terminado` events.
 *
 * @module
 */
import type postgres from "postgres";
import type { Logger } from "../util/log.ts";
import {
  countByName,
  heartbeatEvery,
  heartbeatRetry,
  mayRescue,
  nextRescueIn,
  parseIds,
} from "./lease.ts";
import * as q from "./postgres_sql.ts";
import type { ClaimedOrder, ClusterFigures, ClusterListener, ClusterQueue } from "./types.ts";

/** How a server takes part in the cluster. */
export interface ClusterOptions {
  /** This server's name (`--instance`), shown in `pedidos.instancia` and the logs. */
  instance: string;
  /** Lease (`--lease-ms`): how long without a heartbeat before others rescue its orders. */
  leaseMs: number;
  /** This server's `--max`: the cluster's limit, which every server must share. */
  max: number;
  log: Logger;
}

/** What the cluster needs to know of its store's commits. */
export interface CommitWatch {
  /** Whether a commit is under way (its new orders' ids are not known to its callers yet). */
  committing(): boolean;
}

/** Thrown when a server's `--max` differs from the limit of a cluster with servers running. */
export class ClusterLimitMismatchError extends Error {
  constructor(max: number, limite: number, running: readonly string[]) {
    super(
      `--max ${max} no coincide con el límite del clúster (${limite}), que usan los servidores en marcha (${
        running.join(", ")
      }): arránquelo con --max ${limite}`,
    );
    this.name = "ClusterLimitMismatchError";
  }
}

/** How long the split of unfinished orders by state may be reused. */
const COUNTS_MAX_AGE_MS = 1000;
/** Most ids one `finishedAmong` query carries. */
const IDS_PER_QUERY = 10_000;

/** A server's membership; made by {@linkcode PostgresCluster.join}. */
export class PostgresCluster implements ClusterQueue {
  readonly instance: string;
  readonly #durable: postgres.Sql<q.Types>;
  readonly #shared: postgres.Sql<q.Types>;
  readonly #options: ClusterOptions;
  readonly #watch: CommitWatch;
  #sesion: number;
  #listener: ClusterListener | undefined;
  #figures: ClusterFigures;
  #countsAt = -Infinity;
  #counting = false;
  /** Since when the database has answered without a failure (`Infinity` while failing). */
  #healthySince: number;
  #ready = true;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #rescueTimer: ReturnType<typeof setTimeout> | undefined;
  /** The heartbeat or rescue round running now. */
  #round: Promise<void> | undefined;
  #listens: postgres.ListenMeta[] = [];
  /** Finished orders heard of while a commit was under way (see #onFinished). */
  #held: number[] = [];
  #stopped = false;

  private constructor(
    durable: postgres.Sql<q.Types>,
    shared: postgres.Sql<q.Types>,
    options: ClusterOptions,
    watch: CommitWatch,
    sesion: number,
    limite: number,
    enUso: number,
  ) {
    this.#durable = durable;
    this.#shared = shared;
    this.#options = options;
    this.#watch = watch;
    this.instance = options.instance;
    this.#sesion = sesion;
    this.#healthySince = performance.now();
    this.#figures = {
      instancia: options.instance,
      instancias: [options.instance],
      limite,
      enUso,
      enCola: 0,
      enProceso: 0,
    };
  }

  /**
   * Joins the cluster: registers this run, re-queues the orders of earlier
   * runs of the same instance (or of every server, if none is alive), sets
   * or checks the limit, and starts the heartbeat, the rescue and the
   * notices.
   *
   * @throws {ClusterLimitMismatchError} if servers are running with another limit
   */
  static async join(
    durable: postgres.Sql<q.Types>,
    shared: postgres.Sql<q.Types>,
    options: ClusterOptions,
    watch: CommitWatch,
  ): Promise<PostgresCluster> {
    const { log, instance, max, leaseMs } = options;
    const [row] = await q.join(durable, instance, leaseMs, max);
    if (row!.sesion === null) {
      throw new ClusterLimitMismatchError(max, row!.limite, row!.en_marcha);
    }
    const joined = {
      sesion: row!.sesion,
      released: row!.liberados.map((id, i) => ({ id, nombre: row!.de[i] ?? "" })),
      enUso: row!.en_uso,
      sameNameAlive: row!.mismo_nombre_vivo,
      running: row!.en_marcha,
    };
    if (joined.sameNameAlive) {
      log.warn(
        `otra ejecución con --instance ${instance} renovó su concesión hace menos de ${leaseMs} ms; si sigue viva, sus pedidos se reprocesarán aquí (use un nombre por servidor)`,
      );
    }
    for (const [nombre, count] of countByName(joined.released)) {
      log.info(`${count} pedidos de ${nombre || "un servidor sin nombre"} vuelven a la cola`);
    }
    const cluster = new PostgresCluster(
      durable,
      shared,
      options,
      watch,
      joined.sesion,
      max,
      joined.enUso,
    );
    cluster.#figures.instancias = [instance, ...new Set(joined.running)];
    try {
      await cluster.#listen();
    } catch (error) {
      await cluster.leave();
      throw error;
    }
    cluster.#scheduleHeartbeat(heartbeatEvery(leaseMs));
    cluster.#scheduleRescue(0);
    return cluster;
  }

  /** This run's session: the fence on every change this server makes. */
  get sesion(): number {
    return this.#sesion;
  }

  get ready(): boolean {
    return this.#ready && !this.#stopped;
  }

  subscribe(listener: ClusterListener): void {
    this.#listener = listener;
  }

  async claim(n: number): Promise<ClaimedOrder[]> {
    if (n <= 0 || this.#stopped) return [];
    const rows = await q.claimOrders(this.#shared, this.#sesion, this.instance, n);
    return rows
      .map((row) => ({ ...row, productos: JSON.parse(row.productos) as string[] }))
      .sort((a, b) => a.id - b.id);
  }

  async finishedAmong(ids: readonly number[]): Promise<number[]> {
    const finished: number[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const rows = await q.finishedAmong(this.#shared, ids.slice(i, i + IDS_PER_QUERY));
      for (const row of rows) finished.push(row.id);
    }
    return finished;
  }

  figures(): ClusterFigures {
    if (performance.now() - this.#countsAt > COUNTS_MAX_AGE_MS) this.#refreshCounts();
    return this.#figures;
  }

  /** A commit went through: the database answers, and the capacity is as it left it. */
  committed(capacity: { limite: number | null; enUso: number } | undefined): void {
    this.#healthy();
    if (capacity) {
      this.#figures = {
        ...this.#figures,
        limite: capacity.limite ?? this.#figures.limite,
        enUso: capacity.enUso,
      };
    }
  }

  /** A commit failed: not ready until the database answers again. */
  commitFailed(): void {
    this.#ready = false;
  }

  /** No commit is under way any more: the notices held meanwhile go out, after its callers. */
  releaseHeldNotices(): void {
    if (this.#held.length === 0) return;
    const due = this.#held;
    this.#held = [];
    setTimeout(() => this.#listener?.finished(due), 0);
  }

  /**
   * Leaves the cluster: stops the heartbeat, the rescue and the notices,
   * and puts the orders this run still holds back in the queue, for the
   * other servers. If the database cannot be reached, they are rescued
   * when the lease runs out instead.
   */
  async leave(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#heartbeatTimer);
    clearTimeout(this.#rescueTimer);
    await this.#round;
    await Promise.all(this.#listens.map((listen) => listen.unlisten().catch(() => {})));
    try {
      const released = await q.releaseSessions(this.#durable, [this.#sesion]);
      if (released.length > 0) {
        this.#options.log.info(
          `${released.length} pedidos sin terminar vuelven a la cola del clúster`,
        );
      }
    } catch (error) {
      this.#options.log.warn(
        `no se pudo dejar el clúster: ${error}; otro servidor rescatará sus pedidos en ${this.#options.leaseMs} ms`,
      );
    }
  }

  async #listen(): Promise<void> {
    let first = true;
    this.#listens.push(
      await this.#shared.listen(
        q.CHANNEL_NEW,
        () => this.#listener?.available(),
        () => {
          // Called again each time the listening connection comes back.
          if (first) return void (first = false);
          this.#options.log.info("avisos del clúster restablecidos");
          this.#listener?.resync();
          this.#listener?.available();
        },
      ),
      await this.#shared.listen(q.CHANNEL_FINISHED, (payload) => this.#onFinished(payload)),
    );
  }

  #onFinished(payload: string): void {
    const ids = parseIds(payload);
    // An order inserted by the commit under way may have been claimed and
    // finished elsewhere before that commit's answer is read here: its
    // notice waits until the commit's callers know its id.
    if (this.#watch.committing()) this.#held.push(...ids);
    else if (ids.length > 0) this.#listener?.finished(ids);
  }

  #scheduleHeartbeat(delay: number): void {
    if (this.#stopped) return;
    this.#heartbeatTimer = setTimeout(() => this.#run(() => this.#heartbeat()), delay);
  }

  #scheduleRescue(delay: number): void {
    if (this.#stopped) return;
    this.#rescueTimer = setTimeout(() => this.#run(() => this.#rescue()), delay);
  }

  /** Runs one round at a time, so that leave() can wait for the one under way. */
  #run(round: () => Promise<void>): void {
    const previous = this.#round ?? Promise.resolve();
    const current: Promise<void> = previous.then(round).finally(() => {
      if (this.#round === current) this.#round = undefined;
    });
    this.#round = current;
  }

  async #heartbeat(): Promise<void> {
    const { leaseMs, log, instance } = this.#options;
    try {
      const renewed = await q.heartbeat(this.#shared, this.#sesion);
      if (renewed.length === 0 && !this.#stopped) {
        const [row] = await q.registerInstance(this.#durable, instance, leaseMs);
        this.#sesion = row!.sesion;
        log.warn(
          `esta instancia pasó más de ${leaseMs} ms sin renovar su concesión y otro servidor rescató sus pedidos; se registra de nuevo`,
        );
        this.#listener?.available();
      }
      const [capacity] = await q.capacity(this.#shared);
      this.committed({ limite: capacity!.limite, enUso: capacity!.en_uso });
      this.#scheduleHeartbeat(heartbeatEvery(leaseMs));
    } catch (error) {
      this.#failed(error);
      this.#scheduleHeartbeat(heartbeatRetry(leaseMs));
    }
  }

  async #rescue(): Promise<void> {
    const { leaseMs, log } = this.#options;
    let next = leaseMs / 2;
    try {
      const registered = await q.instances(this.#shared);
      const others = registered.filter((row) => row.sesion !== this.#sesion);
      this.#figures = {
        ...this.#figures,
        instancias: [
          this.instance,
          ...new Set(others.filter((row) => row.restante_ms > 0).map((row) => row.nombre)),
        ],
      };
      next = nextRescueIn(others.map((row) => row.restante_ms), leaseMs);
      if (mayRescue(this.#healthySince, performance.now(), leaseMs)) {
        const expired = others.filter((row) => row.restante_ms <= 0).map((row) => row.sesion);
        const orphans = (await q.orphanSessions(this.#shared))
          .map((row) => row.sesion)
          .filter((sesion) => sesion !== this.#sesion);
        if (expired.length > 0 || orphans.length > 0) {
          const rescued = await q.rescueSessions(this.#durable, expired, orphans);
          for (const [nombre, count] of countByName(rescued)) {
            log.warn(
              `${
                nombre || "un servidor sin nombre"
              } dejó de renovar su concesión: ${count} pedidos suyos vuelven a la cola`,
            );
          }
          if (rescued.length > 0) this.#listener?.available();
        }
      }
    } catch (error) {
      this.#failed(error);
    }
    this.#scheduleRescue(next);
  }

  #refreshCounts(): void {
    if (this.#counting || this.#stopped) return;
    this.#counting = true;
    q.unfinishedByState(this.#shared).then(([row]) => {
      this.#countsAt = performance.now();
      this.#figures = { ...this.#figures, enCola: row!.en_cola, enProceso: row!.en_proceso };
    }, (error) => this.#failed(error)).finally(() => this.#counting = false);
  }

  #healthy(): void {
    if (!this.#ready || this.#healthySince === Infinity) {
      if (this.#healthySince === Infinity) {
        this.#options.log.notice("la base de datos responde de nuevo");
        this.#healthySince = performance.now();
      }
      this.#ready = true;
    }
  }

  #failed(error: unknown): void {
    if (this.#stopped) return;
    if (this.#healthySince !== Infinity) {
      this.#options.log.error(`la base de datos no responde: ${error}`);
    }
    this.#healthySince = Infinity;
    this.#ready = false;
  }
}
