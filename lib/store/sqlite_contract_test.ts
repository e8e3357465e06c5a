/**
 * The store contract (`contract.ts`) against the SQLite backend: each test
 * on a fresh database file in a temporary folder, opened through
 * `openStore` as the server and the tools open it.
 */
import { DatabaseSync } from "node:sqlite";
import { storeContract } from "./contract.ts";
import { openStore } from "./open.ts";

storeContract({
  name: "SQLite",
  async create() {
    const dir = await Deno.makeTempDir({ prefix: "pedidos-contrato-" });
    const path = `${dir}/pedidos.db`;
    return {
      open: () => openStore(path, { sync: "normal" }),
      openReader: () => openStore(path, { readOnly: true }),
      refuse(cliente) {
        // From a connection of its own, as another tool could: the store's
        // own statements then fail inside its transaction.
        const db = new DatabaseSync(path);
        try {
          const raise = "SELECT RAISE(ABORT, 'rechazado por la prueba')";
          const when = `WHEN NEW.cliente = ${JSON.stringify(cliente).replaceAll('"', "'")}`;
          db.exec(`CREATE TRIGGER rechaza_alta BEFORE INSERT ON pedidos ${when} BEGIN ${raise}; END;
                   CREATE TRIGGER rechaza_cambio BEFORE UPDATE ON pedidos ${when} BEGIN ${raise}; END;`);
        } finally {
          db.close();
        }
        return Promise.resolve();
      },
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  },
});
