import assert from "node:assert/strict";
import { describeTlsFailure } from "./tls.ts";

Deno.test("each TLS failure is one line with a hint at its usual cause", () => {
  const cases: [string, string][] = [
    [
      "invalid peer certificate: UnknownIssuer",
      "no se pudo verificar el certificado de [::1]:8888: emisor desconocido (¿falta --ca?)",
    ],
    [
      "invalid peer certificate: NotValidForName",
      "no se pudo verificar el certificado de [::1]:8888: no es válido para ::1 (¿otro --host?)",
    ],
    [
      "invalid peer certificate: Expired",
      "no se pudo verificar el certificado de [::1]:8888: ha caducado",
    ],
    [
      "received corrupt message of type InvalidContentType",
      "[::1]:8888 no habla TLS (¿el servidor no tiene --tls-cert?)",
    ],
    ["algo raro", "falló TLS con [::1]:8888: algo raro"],
  ];
  for (const [message, expected] of cases) {
    assert.equal(describeTlsFailure(new Error(message), "[::1]:8888", "::1"), expected);
  }
});
