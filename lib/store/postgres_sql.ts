/**
 * Every SQL statement of the PostgreSQL backend, by name, in one place (as
 * River keeps its queries): the schema and its migrations, the group
 * commit's statements, the reads, and the cluster's claim, heartbeat,
 * rescue and release. Each function only builds its statement on the
 * connection or transaction given; `postgres.ts` and `postgres_cluster.ts`
 * decide when to run them. Parameters are always bound, never spliced.
 *
 * Ownership of an order is its `sesion`: the run of a server that claimed
 * it (`pedidos_instancias.sesion`), or `NULL` when no server holds it. A
 * server changes only the orders its session holds; a store that joined no
 * cluster holds the ones nobody holds.
 *
 * @module
 */
import type postgres from "postgres";
import type { OrderView } from "./types.ts";
import type { Raw } from "./rules.ts";

/** The column types this backend reads: `bigint` ids and counts as numbers. */
export type Types = { bigint: number };
/** A connection pool or a transaction: whatever a statement runs on. */
export type Db = postgres.ISql<Types>;

/** Channel of "orders may be waiting to be claimed": inserts, rescues, releases. */
export const CHANNEL_NEW = "pedidos_nuevos";
/** Channel of "these orders reached a final state": ids, comma-separated. */
export const CHANNEL_FINISHED = "pedidos_terminados";

/**
 * The transactions, as functions: each runs as one statement, so it is
 * atomic without a client-side BEGIN/COMMIT, costs one round trip, and holds
 * the capacity row's lock only while the database itself works. (It also
 * keeps clear of a defect of the `postgres` client, whose `begin()` writes
 * its ROLLBACK to a dead connection and brings the process down.)
 */
const FUNCTIONS = `
      -- A batch of the group commit: changes round by round (an order's
      -- changes in the order given), then admission against the cluster's
      -- limit and the inserts, then the notices. Candidates are the new
      -- orders, with keys unique within the batch (the caller folds repeats).
      -- One row per candidate n (id NULL and existente false: refused for
      -- the limit), and row 0 with the capacity row if it was touched.
      CREATE FUNCTION pedidos_confirmar(
        p_sesion bigint,
        p_clientes text[], p_productos text[], p_direcciones text[], p_recibidos text[],
        p_claves text[],
        p_rondas int[], p_tipos text[], p_ids bigint[], p_workers int[], p_inicios text[],
        p_fines text[], p_duraciones float8[], p_motivos text[], p_resultados text[]
      ) RETURNS TABLE (n int, id bigint, existente boolean, limite int, en_uso int)
      LANGUAGE plpgsql AS $f$
      #variable_conflict use_column
      DECLARE
        v_n int := coalesce(cardinality(p_clientes), 0);
        v_ids bigint[] := array_fill(NULL::bigint, ARRAY[v_n]);
        v_existe boolean[] := array_fill(false, ARRAY[v_n]);
        v_terminados bigint[] := '{}';
        v_lote bigint[];
        v_nuevos int[];
        v_k int;
        v_limite int;
        v_en_uso int;
        v_carrera int := 0;
        v_tocada boolean := false;
        v_con_clave text[];
        v_con_clave_id bigint[];
        v_otro bigint;
        v_guardados int := 0;
        v_sin_clave_n int[];
        v_sin_clave_id bigint[];
        v_aviso text := '';
        r record;
      BEGIN
        FOR v_ronda IN 0 .. coalesce((SELECT max(x) FROM unnest(p_rondas) x), -1) LOOP
          UPDATE pedidos p SET estado = 'en proceso', fecha_inicio = c.inicio, fecha_fin = NULL,
            duracion = NULL, worker = c.worker, intentos = p.intentos + 1
          FROM unnest(p_rondas, p_tipos, p_ids, p_workers, p_inicios)
            AS c(ronda, tipo, id, worker, inicio)
          WHERE c.ronda = v_ronda AND c.tipo = 'inicio' AND p.id = c.id
            AND p.sesion IS NOT DISTINCT FROM p_sesion AND p.estado IN ('en cola', 'en proceso');

          WITH hechos AS (
            UPDATE pedidos p SET estado = 'listo', fecha_inicio = c.inicio, fecha_fin = c.fin,
              duracion = c.duracion, worker = c.worker, motivo_fallo = NULL, sesion = NULL,
              resultado = c.resultado,
              intentos = p.intentos + CASE WHEN c.tipo = 'completo' THEN 1 ELSE 0 END
            FROM unnest(p_rondas, p_tipos, p_ids, p_workers, p_inicios, p_fines, p_duraciones,
                        p_resultados)
              AS c(ronda, tipo, id, worker, inicio, fin, duracion, resultado)
            WHERE c.ronda = v_ronda AND c.tipo IN ('fin', 'completo') AND p.id = c.id
              AND p.sesion IS NOT DISTINCT FROM p_sesion AND p.estado IN ('en cola', 'en proceso')
            RETURNING p.id
          ) SELECT coalesce(array_agg(hechos.id), '{}') INTO v_lote FROM hechos;
          v_terminados := v_terminados || v_lote;

          -- A retry stays held by its server, whose pool runs it again.
          UPDATE pedidos p SET estado = 'en cola', motivo_fallo = c.motivo
          FROM unnest(p_rondas, p_tipos, p_ids, p_motivos) AS c(ronda, tipo, id, motivo)
          WHERE c.ronda = v_ronda AND c.tipo = 'reintento' AND p.id = c.id
            AND p.sesion IS NOT DISTINCT FROM p_sesion AND p.estado IN ('en cola', 'en proceso');

          -- A failure's duration runs from the last stored start, to the millisecond.
          WITH fallidos AS (
            UPDATE pedidos p SET estado = 'fallido', fecha_fin = c.fin, motivo_fallo = c.motivo,
              sesion = NULL,
              duracion = (round(extract(epoch FROM c.fin::timestamptz
                - p.fecha_inicio::timestamptz) * 1000) / 1000)::float8
            FROM unnest(p_rondas, p_tipos, p_ids, p_fines, p_motivos)
              AS c(ronda, tipo, id, fin, motivo)
            WHERE c.ronda = v_ronda AND c.tipo = 'fallo' AND p.id = c.id
              AND p.sesion IS NOT DISTINCT FROM p_sesion AND p.estado IN ('en cola', 'en proceso')
            RETURNING p.id
          ) SELECT coalesce(array_agg(fallidos.id), '{}') INTO v_lote FROM fallidos;
          v_terminados := v_terminados || v_lote;
        END LOOP;

        FOR r IN SELECT u.n::int AS n, p.id FROM unnest(p_claves) WITH ORDINALITY AS u(clave, n)
                 JOIN pedidos p ON p.clave = u.clave LOOP
          v_ids[r.n] := r.id;
          v_existe[r.n] := true;
        END LOOP;
        SELECT coalesce(array_agg(g ORDER BY g), '{}') INTO v_nuevos
        FROM generate_series(1, v_n) g WHERE NOT v_existe[g];
        v_k := cardinality(v_nuevos);

        IF v_k > 0 OR cardinality(v_terminados) > 0 THEN
          SELECT c.limite, c.en_uso INTO v_limite, v_en_uso
          FROM pedidos_capacidad c WHERE c.id = 1 FOR UPDATE;
          v_en_uso := v_en_uso - cardinality(v_terminados);
          v_tocada := true;
          IF v_limite IS NOT NULL THEN v_k := LEAST(v_k, GREATEST(0, v_limite - v_en_uso)); END IF;
        END IF;

        IF v_k > 0 THEN
          -- RETURNING promises no order, but ids grow in the order rows go
          -- in: keyless rows take theirs sorted; keyed rows are found by key.
          WITH ins AS (
            INSERT INTO pedidos (cliente, productos, direccion, fecha_recibido, clave)
            SELECT p_clientes[f.g], p_productos[f.g], p_direcciones[f.g], p_recibidos[f.g],
                   p_claves[f.g]
            FROM unnest(v_nuevos[1:v_k]) WITH ORDINALITY AS f(g, o) ORDER BY f.o
            ON CONFLICT (clave) DO NOTHING
            RETURNING pedidos.id, pedidos.clave
          ), guardados AS (
            SELECT count(*)::int AS cuantos,
                   coalesce(array_agg(ins.id ORDER BY ins.id) FILTER (WHERE ins.clave IS NULL), '{}')
                     AS sin_clave,
                   coalesce(array_agg(ins.id) FILTER (WHERE ins.clave IS NOT NULL), '{}') AS ids,
                   coalesce(array_agg(ins.clave) FILTER (WHERE ins.clave IS NOT NULL), '{}') AS claves
            FROM ins
          )
          SELECT g.cuantos, g.sin_clave, g.ids, g.claves
            INTO v_guardados, v_sin_clave_id, v_con_clave_id, v_con_clave FROM guardados g;
          SELECT coalesce(array_agg(g ORDER BY g), '{}') INTO v_sin_clave_n
          FROM unnest(v_nuevos[1:v_k]) g WHERE p_claves[g] IS NULL;
          FOR i IN 1 .. cardinality(v_sin_clave_n) LOOP
            v_ids[v_sin_clave_n[i]] := v_sin_clave_id[i];
          END LOOP;
          FOR r IN SELECT g, x.id FROM unnest(v_nuevos[1:v_k]) g
                   JOIN unnest(v_con_clave, v_con_clave_id) AS x(clave, id) ON x.clave = p_claves[g]
          LOOP
            v_ids[r.g] := r.id;
          END LOOP;
          -- Keys another server stored after the lookup above: theirs stand,
          -- and the capacity taken for them goes back.
          FOR r IN SELECT g FROM unnest(v_nuevos[1:v_k]) g
                   WHERE p_claves[g] IS NOT NULL AND v_ids[g] IS NULL LOOP
            SELECT p.id INTO v_otro FROM pedidos p WHERE p.clave = p_claves[r.g];
            v_ids[r.g] := v_otro;
            v_existe[r.g] := true;
            v_carrera := v_carrera + 1;
          END LOOP;
        END IF;

        IF v_tocada THEN
          v_en_uso := v_en_uso + v_k - v_carrera;
          UPDATE pedidos_capacidad c SET en_uso = v_en_uso WHERE c.id = 1;
        END IF;
        IF v_guardados > 0 THEN PERFORM pg_notify('pedidos_nuevos', ''); END IF;
        FOR i IN 1 .. cardinality(v_terminados) LOOP
          IF length(v_aviso) > 7000 THEN
            PERFORM pg_notify('pedidos_terminados', v_aviso);
            v_aviso := '';
          END IF;
          v_aviso := v_aviso || CASE WHEN v_aviso = '' THEN '' ELSE ',' END || v_terminados[i];
        END LOOP;
        IF v_aviso <> '' THEN PERFORM pg_notify('pedidos_terminados', v_aviso); END IF;
        RETURN QUERY SELECT g, v_ids[g], v_existe[g], v_limite, v_en_uso
          FROM generate_series(0, v_n) g;
      END $f$;

      -- Forgets these runs of servers and puts the orders they held back in
      -- the queue (en cola, held by nobody), keeping their attempts.
      CREATE FUNCTION pedidos_liberar(p_sesiones bigint[])
      RETURNS TABLE (id bigint, nombre text) LANGUAGE plpgsql AS $f$
      #variable_conflict use_column
      BEGIN
        DELETE FROM pedidos_instancias i WHERE i.sesion = ANY(p_sesiones);
        RETURN QUERY WITH u AS (
          UPDATE pedidos p SET estado = 'en cola', sesion = NULL
          WHERE p.sesion = ANY(p_sesiones) AND p.estado IN ('en cola', 'en proceso')
          RETURNING p.id, coalesce(p.instancia, '') AS nombre
        ) SELECT u.id, u.nombre FROM u;
        IF FOUND THEN PERFORM pg_notify('pedidos_nuevos', ''); END IF;
      END $f$;

      -- The rescue: forgets those of p_vencidas whose lease has still run out
      -- (checked again under the row's lock, so a heartbeat that came in
      -- meanwhile wins; the database's own start counts as a heartbeat), and
      -- releases their orders and those of p_huerfanas, runs with no row.
      CREATE FUNCTION pedidos_rescatar(p_vencidas bigint[], p_huerfanas bigint[])
      RETURNS TABLE (id bigint, nombre text) LANGUAGE plpgsql AS $f$
      #variable_conflict use_column
      DECLARE
        v_muertas bigint[];
      BEGIN
        WITH olvidadas AS (
          DELETE FROM pedidos_instancias i
          WHERE i.sesion = ANY(p_vencidas)
            AND greatest(i.visto, pg_postmaster_start_time())
                + i.lease_ms * interval '1 millisecond' < now()
          RETURNING i.sesion
        ) SELECT coalesce(array_agg(olvidadas.sesion), '{}') INTO v_muertas FROM olvidadas;
        RETURN QUERY WITH u AS (
          UPDATE pedidos p SET estado = 'en cola', sesion = NULL
          WHERE (p.sesion = ANY(v_muertas)
                 OR (p.sesion = ANY(p_huerfanas) AND NOT EXISTS (
                       SELECT 1 FROM pedidos_instancias i WHERE i.sesion = p.sesion)))
            AND p.estado IN ('en cola', 'en proceso')
          RETURNING p.id, coalesce(p.instancia, '') AS nombre
        ) SELECT u.id, u.nombre FROM u;
        IF FOUND THEN PERFORM pg_notify('pedidos_nuevos', ''); END IF;
      END $f$;

      -- A server's run joins: with no other server alive it sets the limit,
      -- recounts en_uso and releases every held order (all their servers are
      -- gone); with others alive, a different limit is refused (sesion NULL
      -- is returned), and only the earlier runs of its own name are released.
      CREATE FUNCTION pedidos_unirse(p_nombre text, p_lease_ms int, p_max int)
      RETURNS TABLE (sesion bigint, limite int, en_uso int, en_marcha text[],
                     mismo_nombre_vivo boolean, liberados bigint[], de text[])
      LANGUAGE plpgsql AS $f$
      #variable_conflict use_column
      DECLARE
        v_limite int;
        v_en_uso int;
        v_en_marcha text[];
        v_vivo boolean;
        v_propias bigint[];
        v_liberados bigint[] := '{}';
        v_de text[] := '{}';
        v_sesion bigint;
      BEGIN
        SELECT c.limite, c.en_uso INTO v_limite, v_en_uso
        FROM pedidos_capacidad c WHERE c.id = 1 FOR UPDATE;
        SELECT coalesce(array_agg(DISTINCT i.nombre), '{}') INTO v_en_marcha
        FROM pedidos_instancias i
        WHERE i.nombre <> p_nombre
          AND greatest(i.visto, pg_postmaster_start_time())
              + i.lease_ms * interval '1 millisecond' > now();
        SELECT coalesce(bool_or(greatest(i.visto, pg_postmaster_start_time())
                 + i.lease_ms * interval '1 millisecond' > now()), false),
               coalesce(array_agg(i.sesion), '{}')
          INTO v_vivo, v_propias
        FROM pedidos_instancias i WHERE i.nombre = p_nombre;
        IF cardinality(v_en_marcha) > 0 AND v_limite IS NOT NULL AND v_limite <> p_max THEN
          RETURN QUERY SELECT NULL::bigint, v_limite, v_en_uso, v_en_marcha, v_vivo,
                              '{}'::bigint[], '{}'::text[];
          RETURN;
        END IF;
        IF cardinality(v_en_marcha) = 0 THEN
          WITH u AS (
            UPDATE pedidos p SET estado = 'en cola', sesion = NULL
            WHERE p.sesion IS NOT NULL AND p.estado IN ('en cola', 'en proceso')
            RETURNING p.id, coalesce(p.instancia, '') AS nombre
          ) SELECT coalesce(array_agg(u.id), '{}'), coalesce(array_agg(u.nombre), '{}')
              INTO v_liberados, v_de FROM u;
          DELETE FROM pedidos_instancias;
          SELECT count(*)::int INTO v_en_uso FROM pedidos p
          WHERE p.estado IN ('en cola', 'en proceso');
          v_limite := p_max;
          UPDATE pedidos_capacidad c SET limite = v_limite, en_uso = v_en_uso WHERE c.id = 1;
        ELSE
          WITH u AS (
            UPDATE pedidos p SET estado = 'en cola', sesion = NULL
            WHERE p.sesion = ANY(v_propias) AND p.estado IN ('en cola', 'en proceso')
            RETURNING p.id, coalesce(p.instancia, '') AS nombre
          ) SELECT coalesce(array_agg(u.id), '{}'), coalesce(array_agg(u.nombre), '{}')
              INTO v_liberados, v_de FROM u;
          DELETE FROM pedidos_instancias i WHERE i.sesion = ANY(v_propias);
          IF v_limite IS NULL THEN
            v_limite := p_max;
            UPDATE pedidos_capacidad c SET limite = v_limite WHERE c.id = 1;
          END IF;
        END IF;
        INSERT INTO pedidos_instancias AS i (nombre, lease_ms) VALUES (p_nombre, p_lease_ms)
          RETURNING i.sesion INTO v_sesion;
        IF cardinality(v_liberados) > 0 THEN PERFORM pg_notify('pedidos_nuevos', ''); END IF;
        RETURN QUERY SELECT v_sesion, v_limite, v_en_uso, v_en_marcha, v_vivo, v_liberados, v_de;
      END $f$;
`;

/** Ordered schema changes; the applied ones are listed in `pedidos_esquema`. */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE pedidos (
        id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        cliente        text NOT NULL,
        productos      text NOT NULL,
        direccion      text NOT NULL,
        estado         text NOT NULL DEFAULT 'en cola'
                       CHECK (estado IN ('en cola', 'en proceso', 'listo', 'fallido')),
        fecha_recibido text NOT NULL,
        fecha_inicio   text,
        fecha_fin      text,
        duracion       double precision,
        worker         integer,
        intentos       integer NOT NULL DEFAULT 0,
        motivo_fallo   text,
        resultado      text,
        clave          text UNIQUE,
        instancia      text,
        sesion         bigint
      );
      CREATE INDEX pedidos_sin_terminar ON pedidos (id)
        WHERE estado IN ('en cola', 'en proceso');
      CREATE INDEX pedidos_por_reclamar ON pedidos (id)
        WHERE estado = 'en cola' AND sesion IS NULL;
      CREATE INDEX pedidos_reclamados ON pedidos (sesion) WHERE sesion IS NOT NULL;
      CREATE TABLE pedidos_capacidad (
        id     integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        limite integer CHECK (limite > 0),
        en_uso integer NOT NULL DEFAULT 0
      );
      INSERT INTO pedidos_capacidad DEFAULT VALUES;
      CREATE TABLE pedidos_instancias (
        sesion   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        nombre   text NOT NULL,
        lease_ms integer NOT NULL CHECK (lease_ms > 0),
        desde    timestamptz NOT NULL DEFAULT now(),
        visto    timestamptz NOT NULL DEFAULT now()
      );
${FUNCTIONS}
    `,
  },
];

// ── Schema ───────────────────────────────────────────────────────────────────

/** Any constant: the advisory lock that keeps two servers from migrating at once. */
const MIGRATION_LOCK = 0x7065_6469;

/** Which of this program's tables exist: to tell a foreign database from an empty one. */
export const existingTables = (db: Db) =>
  db<{ tabla: string }[]>`
    SELECT table_name AS tabla FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name IN ('pedidos', 'pedidos_esquema')`;

/** The latest applied migration; 0 when none. */
export const schemaVersion = (db: Db) =>
  db<{ version: number }[]>`SELECT coalesce(max(version), 0)::int AS version FROM pedidos_esquema`;

/**
 * Applies one migration unless it already is, as one statement (so it is
 * atomic on its own), under a lock that one server at a time holds.
 */
export const applyMigration = (db: Db, migration: { version: number; sql: string }) =>
  db.unsafe(`
    DO $migrar$ BEGIN
      PERFORM pg_advisory_xact_lock(${MIGRATION_LOCK});
      CREATE TABLE IF NOT EXISTS pedidos_esquema (
        version integer PRIMARY KEY,
        aplicada timestamptz NOT NULL DEFAULT now()
      );
      IF NOT EXISTS (SELECT 1 FROM pedidos_esquema WHERE version = ${migration.version}) THEN
        EXECUTE $migracion$${migration.sql}$migracion$;
        INSERT INTO pedidos_esquema (version) VALUES (${migration.version});
      END IF;
    END $migrar$`).simple();

/** `synchronous_commit` as this connection has it: what an `ok` waits for. */
export const synchronousCommit = (db: Db) =>
  db<{ valor: string }[]>`SELECT current_setting('synchronous_commit') AS valor`;

// ── Group commit ─────────────────────────────────────────────────────────────

/** Stored orders among these keys. */
export const idsByKey = (db: Db, claves: readonly string[]) =>
  db<{ id: number; clave: string }[]>`
    SELECT id, clave FROM pedidos WHERE clave = ANY(${claves as string[]}::text[])`;

/**
 * One batch of the group commit, as `pedidos_confirmar` takes it: the new
 * orders (keys unique within it) and the changes, each tagged with its round.
 */
export interface Batch {
  clientes: string[];
  productos: string[];
  direcciones: string[];
  recibidos: string[];
  claves: (string | null)[];
  rondas: number[];
  tipos: string[];
  ids: number[];
  workers: (number | null)[];
  inicios: (string | null)[];
  fines: (string | null)[];
  duraciones: (number | null)[];
  motivos: (string | null)[];
  /** A processor's result as JSON text, for `fin` and `completo` changes. */
  resultados: (string | null)[];
}

/** One row per new order (`n` from 1), and row 0 with the capacity row if the batch touched it. */
export interface ConfirmRow {
  n: number;
  id: number | null;
  existente: boolean | null;
  limite: number | null;
  en_uso: number | null;
}

/** Commits one batch, with the changes allowed to `sesion` (see `pedidos_confirmar`). */
export const confirm = (db: Db, sesion: number | null, b: Batch) =>
  db<ConfirmRow[]>`
    SELECT * FROM pedidos_confirmar(${sesion}::bigint,
      ${b.clientes}::text[], ${b.productos}::text[], ${b.direcciones}::text[],
      ${b.recibidos}::text[], ${b.claves}::text[],
      ${b.rondas}::int[], ${b.tipos}::text[], ${b.ids}::bigint[], ${b.workers}::int[],
      ${b.inicios}::text[], ${b.fines}::text[], ${b.duraciones}::float8[], ${b.motivos}::text[],
      ${b.resultados}::text[])
    ORDER BY n`;

// ── Reads ────────────────────────────────────────────────────────────────────

const VIEW = (db: Db) =>
  db`id, cliente, productos, direccion, estado, fecha_recibido, fecha_inicio, fecha_fin,
     duracion, worker, intentos, motivo_fallo, resultado`;

/** An order's row as PostgreSQL returns it: `productos` and `resultado` still JSON text. */
export type ViewRow = Raw<OrderView>;

/** Conditions of a read; each one given must hold. */
export interface Where {
  id?: number;
  clave?: string;
  clientePrefix?: string;
  estados?: readonly string[];
}

function whereOf(db: Db, where: Where) {
  const conditions = [];
  if (where.id !== undefined) conditions.push(db`id = ${where.id}`);
  if (where.clave !== undefined) conditions.push(db`clave = ${where.clave}`);
  // Not LIKE: that treats % and _ as wildcards.
  if (where.clientePrefix !== undefined) {
    conditions.push(db`starts_with(cliente, ${where.clientePrefix})`);
  }
  if (where.estados !== undefined) {
    conditions.push(db`estado = ANY(${where.estados as string[]}::text[])`);
  }
  if (conditions.length === 0) return db``;
  return db`WHERE ${conditions.reduce((all, condition) => db`${all} AND ${condition}`)}`;
}

/** Matching orders with their keys, by id. */
export const selectOrders = (db: Db, where: Where) =>
  db<(ViewRow & { clave: string | null })[]>`
    SELECT ${VIEW(db)}, clave FROM pedidos ${whereOf(db, where)} ORDER BY id`;

/** How many orders match. */
export const countOrders = (db: Db, where: Where) =>
  db<{ n: number }[]>`SELECT count(*) AS n FROM pedidos ${whereOf(db, where)}`;

/** Every order, as statistics replay it, by id. */
export const statsRows = (db: Db) =>
  db<
    {
      id: number;
      estado: string;
      worker: number | null;
      fecha_inicio: string | null;
      fecha_fin: string | null;
    }[]
  >`SELECT id, estado, worker, fecha_inicio, fecha_fin FROM pedidos ORDER BY id`;

/** Which unfinished orders this store holds: those of its session, or, with no session, those nobody holds. */
const held = (db: Db, sesion: number | null) =>
  db`sesion IS NOT DISTINCT FROM ${sesion}::bigint AND estado IN ('en cola', 'en proceso')`;

/** How many unfinished orders this store holds, and the newest one's id (0 if none). */
export const heldBacklog = (db: Db, sesion: number | null) =>
  db<{ count: number; newestId: number }[]>`
    SELECT count(*)::int AS count, coalesce(max(id), 0)::float8 AS "newestId"
    FROM pedidos WHERE ${held(db, sesion)}`;

/** Unfinished orders this store holds with `after < id <= through`, by id, at most `limit`. */
export const heldUnfinished = (
  db: Db,
  sesion: number | null,
  range: { after: number; through: number; limit: number },
) =>
  db<ViewRow[]>`
    SELECT ${VIEW(db)} FROM pedidos
    WHERE ${held(db, sesion)} AND id > ${range.after} AND id <= ${range.through}
    ORDER BY id LIMIT ${range.limit}`;

/** Which of these orders are `listo` or `fallido`. */
export const finishedAmong = (db: Db, ids: readonly number[]) =>
  db<{ id: number }[]>`
    SELECT id FROM pedidos
    WHERE id = ANY(${ids as number[]}::bigint[]) AND estado IN ('listo', 'fallido')`;

// ── Cluster ──────────────────────────────────────────────────────────────────

/**
 * Every registered server run, and how many milliseconds its lease has
 * left: from its last heartbeat, or from PostgreSQL's own start if that is
 * later (a restarted database gives every server a full lease to
 * reconnect before anyone is thought dead).
 */
export const instances = (db: Db) =>
  db<{ sesion: number; nombre: string; lease_ms: number; restante_ms: number }[]>`
    SELECT sesion, nombre, lease_ms,
      (extract(epoch FROM greatest(visto, pg_postmaster_start_time())
         + lease_ms * interval '1 millisecond' - now()) * 1000)::float8 AS restante_ms
    FROM pedidos_instancias ORDER BY sesion`;

/** Registers a new run of a server; its `sesion` fences everything it will hold. */
export const registerInstance = (db: Db, nombre: string, leaseMs: number) =>
  db<{ sesion: number }[]>`
    INSERT INTO pedidos_instancias (nombre, lease_ms) VALUES (${nombre}, ${leaseMs})
    RETURNING sesion`;

/** Reads the capacity row. */
export const capacity = (db: Db) =>
  db<{ limite: number | null; en_uso: number }[]>`
    SELECT limite, en_uso FROM pedidos_capacidad WHERE id = 1`;

/** What `pedidos_unirse` answers; `sesion` is null when the limit differs from the running servers'. */
export interface JoinRow {
  sesion: number | null;
  limite: number;
  en_uso: number;
  en_marcha: string[];
  mismo_nombre_vivo: boolean;
  liberados: number[];
  de: string[];
}

/** Joins the cluster as a new run of server `nombre` (see `pedidos_unirse`). */
export const join = (db: Db, nombre: string, leaseMs: number, max: number) =>
  db<JoinRow[]>`SELECT * FROM pedidos_unirse(${nombre}, ${leaseMs}::int, ${max}::int)`;

/** Forgets these runs and puts their orders back in the queue; the orders released. */
export const releaseSessions = (db: Db, sesiones: readonly number[]) =>
  db<{ id: number; nombre: string }[]>`
    SELECT * FROM pedidos_liberar(${sesiones as number[]}::bigint[])`;

/** The rescue (see `pedidos_rescatar`); the orders released, with their server's name. */
export const rescueSessions = (
  db: Db,
  expired: readonly number[],
  orphans: readonly number[],
) =>
  db<{ id: number; nombre: string }[]>`
    SELECT * FROM pedidos_rescatar(${expired as number[]}::bigint[], ${orphans as number[]}::bigint[])`;

/** Sessions that hold orders but are registered nowhere (an instance row deleted by hand). */
export const orphanSessions = (db: Db) =>
  db<{ sesion: number }[]>`
    SELECT DISTINCT p.sesion FROM pedidos p
    WHERE p.sesion IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM pedidos_instancias i WHERE i.sesion = p.sesion)`;

/** Renews this run's lease; no row means the others declared it dead. */
export const heartbeat = (db: Db, sesion: number) =>
  db<{ sesion: number }[]>`
    UPDATE pedidos_instancias SET visto = now() WHERE sesion = ${sesion} RETURNING sesion`;

/**
 * Claims up to `n` orders `en cola` that nobody holds, oldest first, for
 * this run; rows another server is claiming right now are skipped, not
 * waited for. The CTE is materialized so that the planner cannot update
 * more rows than the limit. A run the others declared dead claims nothing.
 */
export const claimOrders = (db: Db, sesion: number, nombre: string, n: number) =>
  db<
    {
      id: number;
      cliente: string;
      productos: string;
      direccion: string;
      fecha_recibido: string;
      intentos: number;
    }[]
  >`
    WITH elegidos AS MATERIALIZED (
      SELECT id FROM pedidos
      WHERE estado = 'en cola' AND sesion IS NULL
      ORDER BY id LIMIT ${n}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE pedidos p SET sesion = ${sesion}, instancia = ${nombre}
    FROM elegidos e
    WHERE p.id = e.id
      AND EXISTS (SELECT 1 FROM pedidos_instancias WHERE sesion = ${sesion})
    RETURNING p.id, p.cliente, p.productos, p.direccion, p.fecha_recibido, p.intentos`;

/** Orders `en cola` and `en proceso` across the cluster. */
export const unfinishedByState = (db: Db) =>
  db<{ en_cola: number; en_proceso: number }[]>`
    SELECT count(*) FILTER (WHERE estado = 'en cola') AS en_cola,
           count(*) FILTER (WHERE estado = 'en proceso') AS en_proceso
    FROM pedidos WHERE estado IN ('en cola', 'en proceso')`;
