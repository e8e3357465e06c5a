/**
 * The store contract (`contract.ts`) against the PostgreSQL backend: each
 * test on a fresh database of a throwaway PostgreSQL, opened through
 * `openStore` as the server and the tools open it. Ignored, with the reason
 * printed, only where PostgreSQL is not installed.
 */
import { storeContract } from "./contract.ts";
import { openStore } from "./open.ts";
import { freshDatabase, postgresUnavailable } from "../../tools/postgres/shared.ts";

storeContract({
  name: "PostgreSQL",
  unavailable: postgresUnavailable(),
  async create() {
    const db = await freshDatabase();
    return {
      open: () => openStore(db.url, { sync: "full" }),
      openReader: () => openStore(db.url, { readOnly: true }),
      refuse: (cliente) =>
        db.admin(async (sql) => {
          // From a connection of its own, as another tool could: the store's
          // own statements then fail inside its transaction.
          await sql.unsafe(`
            CREATE FUNCTION rechaza() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.cliente = ${quoted(cliente)} THEN
                RAISE EXCEPTION 'rechazado por la prueba';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER rechaza BEFORE INSERT OR UPDATE ON pedidos
              FOR EACH ROW EXECUTE FUNCTION rechaza();
          `);
        }),
      [Symbol.asyncDispose]: () => db[Symbol.asyncDispose](),
    };
  },
});

/** A text as an SQL string literal. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
