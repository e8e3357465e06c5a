import assert from "node:assert/strict";
import { bindListeners } from "./listen.ts";
import { PortInUseError } from "../util/net.ts";
import { createLogger } from "../util/log.ts";

const silent = createLogger("quiet", "test", () => {});

Deno.test("the IPv4 and IPv6 any-addresses bind side by side on one ephemeral port", () => {
  const listeners = bindListeners(["0.0.0.0", "::"], 0, silent);
  try {
    assert.equal(listeners.length, 2);
    const [v4, v6] = listeners.map((listener) => listener.addr);
    assert.equal(v4!.hostname, "0.0.0.0");
    assert.equal(v6!.hostname, "::");
    assert.equal(v4!.port, v6!.port);
  } finally {
    for (const listener of listeners) listener.close();
  }
});

Deno.test("a port held by another server is refused even though SO_REUSEPORT would allow it", () => {
  const first = bindListeners(["0.0.0.0", "::"], 0, silent);
  try {
    const port = first[0]!.addr.port;
    assert.throws(
      () => bindListeners(["0.0.0.0", "::"], port, silent),
      (error: unknown) =>
        error instanceof PortInUseError &&
        error.message === `el puerto ${port} ya está en uso (¿otro servidor de pedidos?)`,
    );
    assert.throws(() => bindListeners(["::1"], port, silent), PortInUseError);
  } finally {
    for (const listener of first) listener.close();
  }
});
