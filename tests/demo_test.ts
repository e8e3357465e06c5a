import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

Deno.test("deno task demo shows six orders admitted, four turned away, all six done, and the report", async () => {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "demo"],
    cwd: new URL(".", ROOT).pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(result.stdout);
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  assert.equal(stdout.match(/✅ Pedido encolado #\d+/g)?.length, 6, stdout);
  assert.equal(stdout.match(/❌ Límite de pedidos alcanzado\. Intente más tarde\./g)?.length, 4);
  assert.equal(stdout.match(/✅ Pedido #\d+ listo en /g)?.length, 6);
  assert.match(stdout, /Pedidos: 6 recibidos · 6 listos · 0 fallidos · 0 en cola · 0 en proceso/);
  assert.match(stdout, /Rechazos: limite 4/);
  assert.match(stdout, /Máximo en paralelo: 3 pedidos a la vez/);
  assert.match(stdout, /worker 3 │/);
  assert.match(stdout, /▶ Panel en vivo: http:\/\/127\.0\.0\.1:\d+\/\n/);
});
