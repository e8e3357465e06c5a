import assert from "node:assert/strict";
import {
  describeFailure,
  describeLoadError,
  encodeResult,
  MAX_MOTIVO_CHARS,
} from "./processor_outcome.ts";
import { MAX_RESULT_BYTES } from "./processor.ts";

Deno.test("a result is stored as its JSON text; undefined means none", () => {
  assert.deepEqual(encodeResult({ pago: "p-1", total: 3.5 }), {
    json: '{"pago":"p-1","total":3.5}',
  });
  assert.deepEqual(encodeResult(null), { json: "null" });
  assert.deepEqual(encodeResult("listo"), { json: '"listo"' });
  assert.deepEqual(encodeResult(undefined), { json: undefined });
});

Deno.test("a result JSON cannot hold fails with the reason", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.match(
    (encodeResult(cyclic) as { motivo: string }).motivo,
    /^el resultado no se puede guardar como JSON: .*circular/i,
  );
  assert.match(
    (encodeResult({ total: 1n }) as { motivo: string }).motivo,
    /^el resultado no se puede guardar como JSON: .*BigInt/,
  );
  assert.deepEqual(encodeResult(() => 1), {
    motivo: "el resultado no se puede guardar como JSON: es de tipo function",
  });
});

Deno.test("a result is limited by its UTF-8 JSON size, the limit itself included", () => {
  const fits = "x".repeat(MAX_RESULT_BYTES - 2); // plus two quotes
  assert.deepEqual(encodeResult(fits), { json: JSON.stringify(fits) });
  assert.deepEqual(encodeResult(fits + "x"), {
    motivo: `el resultado ocupa ${
      MAX_RESULT_BYTES + 1
    } bytes como JSON; el máximo es ${MAX_RESULT_BYTES}`,
  });
  // "ñ" is one character but two bytes.
  assert.deepEqual(encodeResult("ñ".repeat(5), 11), {
    motivo: "el resultado ocupa 12 bytes como JSON; el máximo es 11",
  });
});

Deno.test("a thrown error keeps its first line, escaped, with its name unless a plain Error", () => {
  assert.equal(
    describeFailure(new Error("sin stock de pan")),
    "el procesador falló: sin stock de pan",
  );
  assert.equal(
    describeFailure(new TypeError("x is not a function")),
    "el procesador falló: TypeError: x is not a function",
  );
  assert.equal(
    describeFailure(new Error("  rojo\u001b[31m\u2028fin \nsegunda línea")),
    "el procesador falló: rojo\\u001b[31m\\u2028fin",
  );
  assert.equal(describeFailure("una cadena"), "el procesador falló: una cadena");
  assert.equal(describeFailure({ codigo: 7 }), 'el procesador falló: {"codigo":7}');
  assert.equal(describeFailure(new Error("")), "el procesador falló: (sin mensaje)");
});

Deno.test("a long message is cut at a character, never inside one", () => {
  const motivo = describeFailure(new Error("🍕".repeat(1000)));
  assert.equal(Array.from(motivo).length, MAX_MOTIVO_CHARS);
  assert.ok(motivo.endsWith("🍕…"));
});

function notCapable(message: string): Error {
  return Object.assign(new Error(message), { name: "NotCapable" });
}

Deno.test("a permission error says what was denied and the flag that grants it, or that none can", () => {
  const cases: [string, string][] = [
    [
      'Requires net access to "127.0.0.1:9", run again with the --allow-net flag',
      'permiso denegado: conectar con "127.0.0.1:9" (concédalo con --processor-allow-net)',
    ],
    [
      'Requires read access to "/etc/shadow", run again with the --allow-read flag',
      'permiso denegado: leer "/etc/shadow" (concédalo con --processor-allow-read)',
    ],
    [
      'Requires env access to "HOME", run again with the --allow-env flag',
      'permiso denegado: leer la variable de entorno "HOME" (concédalo con --processor-allow-env)',
    ],
    [
      'Requires write access to "/tmp/x", run again with the --allow-write flag',
      'permiso denegado: escribir "/tmp/x" (un procesador no puede escribir archivos)',
    ],
    [
      'Requires run access to "true", run again with the --allow-run flag',
      'permiso denegado: ejecutar "true" (un procesador no puede ejecutar programas)',
    ],
    [
      'Requires ffi access to "libc.so.6", run again with the --allow-ffi flag',
      'permiso denegado: cargar la biblioteca "libc.so.6" (un procesador no puede usar FFI)',
    ],
    [
      'Requires sys access to "hostname", run again with the --allow-sys flag',
      'permiso denegado: consultar del sistema "hostname" (un procesador no puede consultar el sistema)',
    ],
  ];
  for (const [message, motivo] of cases) assert.equal(describeFailure(notCapable(message)), motivo);
  assert.equal(
    describeFailure(notCapable("Requires something new")),
    "permiso denegado: Requires something new",
  );
});

Deno.test("a load error is one line, with where a syntax error is and how to grant an import", () => {
  const syntax = new Error(
    "Unexpected token `<eof>`. Expected identifier\n  |\n1 | export default function ( {\n" +
      "  |   ~\n    at \u001b[36mfile:///srv/procesar.ts\u001b[0m:1:28",
  );
  assert.equal(
    describeLoadError(syntax),
    "no se pudo cargar el procesador: Unexpected token `<eof>`. Expected identifier " +
      "(file:///srv/procesar.ts:1:28)",
  );
  assert.equal(
    describeLoadError(
      new TypeError(
        'Requires read access to "/srv/ayuda.ts", run again with the --allow-read flag\n' +
          "    at file:///srv/procesar.ts:1:19",
      ),
    ),
    'no se pudo cargar el procesador: importa "/srv/ayuda.ts", que no puede leer ' +
      "(concédalo con --processor-allow-read) (file:///srv/procesar.ts:1:19)",
  );
  assert.equal(
    describeLoadError(
      notCapable('Requires env access to "TOKEN", run again with the --allow-env flag'),
    ),
    "no se pudo cargar el procesador: permiso denegado: leer la variable de entorno " +
      '"TOKEN" (concédalo con --processor-allow-env)',
  );
  assert.equal(
    describeLoadError(new Error("falta la configuración")),
    "no se pudo cargar el procesador: falta la configuración",
  );
});
