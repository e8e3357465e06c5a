import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";
import { postgresUnavailable } from "../tools/postgres/throwaway.ts";

/** Runs `deno task NAME` as a newcomer would, asserts it exits 0, and returns its stdout. */
async function runTask(name: string): Promise<string> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", name],
    cwd: new URL(".", ROOT).pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(result.stdout);
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  return stdout;
}

Deno.test("deno task demo shows six orders admitted, four turned away, all six done, and the report", async () => {
  const stdout = await runTask("demo");
  assert.equal(stdout.match(/✅ Pedido encolado #\d+/g)?.length, 6, stdout);
  assert.equal(stdout.match(/❌ Límite de pedidos alcanzado\. Intente más tarde\./g)?.length, 4);
  assert.equal(stdout.match(/✅ Pedido #\d+ listo en /g)?.length, 6);
  assert.match(stdout, /Pedidos: 6 recibidos · 6 listos · 0 fallidos · 0 en cola · 0 en proceso/);
  assert.match(stdout, /Rechazos: limite 4/);
  assert.match(stdout, /Máximo en paralelo: 3 pedidos a la vez/);
  assert.match(stdout, /worker 3 │/);
  assert.match(stdout, /▶ Panel en vivo: http:\/\/127\.0\.0\.1:\d+\/\n/);
});

const noPostgres = postgresUnavailable();
if (noPostgres) console.log(`deno task demo:cluster omitido: ${noPostgres}`);

Deno.test({
  name:
    "deno task demo:cluster shows nine orders over three servers, the dead one's orders rescued, and the cluster's report",
  ignore: noPostgres !== undefined,
  async fn() {
    const stdout = await runTask("demo:cluster");
    assert.equal(stdout.match(/✅ Pedido encolado #\d+/g)?.length, 9, stdout);
    assert.match(stdout, /kill -9 a centro, que procesaba 2 pedidos/);
    assert.match(stdout, /vuelven a la cola \d+\.\d s después del kill/);
    assert.match(stdout, /← rescatado/);
    assert.equal(stdout.match(/sin aviso: su conexión era con centro/g)?.length, 3);
    assert.equal(stdout.match(/✅ Pedido #\d+ listo en /g)?.length, 6);
    assert.match(stdout, /Pedidos: 9 recibidos · 9 listos · 0 fallidos · 0 en cola · 0 en proceso/);
  },
});
