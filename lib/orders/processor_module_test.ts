/**
 * The start-up check with real module files, each loaded once in a real
 * worker with the permissions the pool would give it.
 */
import assert from "node:assert/strict";
import { locateProcessor, prepareProcessor, type ProgramPlace } from "./processor_module.ts";
import { NO_GRANTS } from "./processor_permissions.ts";

const WORKER_URL = new URL("../../worker.ts", import.meta.url);

Deno.test("from source a relative --processor is found from the working directory; compiled, from the embedded project", () => {
  const place: ProgramPlace = {
    standalone: false,
    cwd: "/srv/tienda",
    codeRoot: new URL("file:///tmp/deno-compile-pedidos-server/"),
  };
  assert.deepEqual(locateProcessor("procesar.ts", place), {
    path: "/srv/tienda/procesar.ts",
    url: "file:///srv/tienda/procesar.ts",
  });
  assert.deepEqual(locateProcessor("/opt/p rocesar.ts", place), {
    path: "/opt/p rocesar.ts",
    url: "file:///opt/p%20rocesar.ts",
  });
  assert.deepEqual(locateProcessor("../tienda/procesar.ts", { ...place, standalone: true }), {
    path: "/tmp/tienda/procesar.ts",
    url: "file:///tmp/tienda/procesar.ts",
  });
});

async function withModules(
  files: Record<string, string>,
  run: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pedidos-procesador-" });
  try {
    for (const [name, source] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, source);
    }
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function prepare(dir: string, file: string, grants = NO_GRANTS) {
  return prepareProcessor(file, grants, {
    place: { standalone: false, cwd: dir, codeRoot: new URL("../../", import.meta.url) },
    workerUrl: WORKER_URL,
    timeoutMs: 30_000,
  });
}

Deno.test("a module whose default export is a function is ready, with its workers' permissions", () =>
  withModules({ "procesar.ts": "export default (p: { id: number }) => p.id;\n" }, async (dir) => {
    const prepared = await prepare(dir, "procesar.ts", {
      net: ["api.local:8080"],
      read: ["datos"],
      env: [],
    });
    assert.equal(prepared.url, `file://${dir}/procesar.ts`);
    assert.deepEqual(prepared.permissions.read, [`${dir}/procesar.ts`, `${dir}/datos`]);
    assert.deepEqual(prepared.permissions.net, ["api.local:8080"]);
    assert.match(prepared.summary, new RegExp(`^procesador ${dir}/procesar.ts: puede conectar`));
  }));

Deno.test("a module that cannot run is refused with one line saying why", () =>
  withModules({
    "sintaxis.ts": "export default function ( {\n",
    "sin_default.ts": "export const procesar = () => 1;\n",
    "no_funcion.ts": "export default { procesar() {} };\n",
    "lanza.ts": 'throw new Error("falta TIENDA_URL");\n',
    "lee_al_cargar.ts": 'await Deno.readTextFile("/etc/hostname");\nexport default () => 1;\n',
  }, async (dir) => {
    const cases: [string, RegExp][] = [
      [
        "sintaxis.ts",
        /^no se pudo cargar el procesador: .*Unexpected token.*sintaxis\.ts:1:\d+\)$/,
      ],
      ["sin_default.ts", /el módulo no tiene export default \(se espera una función\)$/],
      ["no_funcion.ts", /su export default no es una función, sino object$/],
      ["lanza.ts", /^no se pudo cargar el procesador: falta TIENDA_URL$/],
      // The sandbox applies from the module's first line.
      [
        "lee_al_cargar.ts",
        /^no se pudo cargar el procesador: permiso denegado: leer "\/etc\/hostname" \(concédalo/,
      ],
      ["no_existe.ts", /^no se pudo cargar el procesador: Module not found/],
    ];
    for (const [file, message] of cases) {
      await assert.rejects(() => prepare(dir, file), (error: Error) => {
        assert.match(error.message, message, file);
        assert.equal(error.message.includes("\n"), false, file);
        return true;
      });
    }
  }));

Deno.test("a module the processor imports must be granted to be read, as Deno requires", () =>
  withModules({
    "procesar.ts": 'import { precio } from "./precios.ts";\nexport default () => precio;\n',
    "precios.ts": "export const precio = 3;\n",
  }, async (dir) => {
    await assert.rejects(
      () => prepare(dir, "procesar.ts"),
      /importa "[^"]*precios\.ts", que no puede leer \(concédalo con --processor-allow-read\)/,
    );
    await prepare(dir, "procesar.ts", { ...NO_GRANTS, read: ["precios.ts"] });
  }));

Deno.test("a compiled server that lacks the module says it must be embedded at build time", () =>
  withModules({}, async (dir) => {
    await assert.rejects(
      () =>
        prepareProcessor("procesar.ts", NO_GRANTS, {
          place: { standalone: true, cwd: "/", codeRoot: new URL(`file://${dir}/`) },
          workerUrl: WORKER_URL,
          timeoutMs: 30_000,
        }),
      /Module not found .*procesar\.ts.* \(un ejecutable compilado solo carga el procesador incluido al compilarlo: deno task compile --processor ARCHIVO\)$/,
    );
  }));
