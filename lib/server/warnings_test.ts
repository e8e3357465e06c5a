import assert from "node:assert/strict";
import {
  DESCRIPTOR_RESERVE,
  descriptorWarning,
  exposureWarning,
  probeFreeDescriptors,
} from "./warnings.ts";

Deno.test("loopback alone, or TLS with tokens, warns of nothing", () => {
  const none = { tls: false, tokens: false };
  assert.equal(exposureWarning(["127.0.0.1", "::1"], none), undefined);
  assert.equal(exposureWarning(["localhost", "127.0.0.2"], none), undefined);
  assert.equal(exposureWarning(["0.0.0.0", "::"], { tls: true, tokens: true }), undefined);
});

Deno.test("beyond loopback, the warning says what is exposed for each missing guard", () => {
  const both = exposureWarning(["0.0.0.0", "::", "127.0.0.1"], { tls: false, tokens: false })!;
  assert.match(both, /^se escucha en 0\.0\.0\.0 y :: sin TLS ni tokens: /);
  assert.match(
    both,
    /puede enviar pedidos y leer las estadísticas, y pedidos y claves viajan sin cifrar/,
  );
  assert.match(
    exposureWarning(["192.0.2.7"], { tls: false, tokens: true })!,
    /^se escucha en 192\.0\.2\.7 sin TLS: pedidos, claves y tokens viajan sin cifrar/,
  );
  assert.match(
    exposureWarning(["tienda.example"], { tls: true, tokens: false })!,
    /^se escucha en tienda\.example sin tokens: quien llegue/,
  );
  assert.equal(both.includes("\n"), false, "one line");
});

Deno.test("--max-connections beyond the free descriptors, less a reserve, is a warning", () => {
  assert.equal(descriptorWarning(10_000, undefined), undefined);
  assert.equal(descriptorWarning(10_000, 10_000 + DESCRIPTOR_RESERVE), undefined);
  const warning = descriptorWarning(10_000, 400)!;
  assert.match(warning, /^--max-connections 10000 no cabe en los descriptores libres \(400\)/);
  assert.match(warning, new RegExp(`pasadas unas ${400 - DESCRIPTOR_RESERVE} conexiones`));
  assert.match(descriptorWarning(10, 20)!, /pasadas unas 0 conexiones/);
});

Deno.test({
  name: "the descriptor probe counts up to what it is asked, and gives every descriptor back",
  ignore: Deno.build.os === "windows",
  fn() {
    assert.equal(probeFreeDescriptors(50), 50);
    assert.equal(probeFreeDescriptors(0), 0);
    // The sanitizers fail the test if a probed descriptor stayed open.
  },
});
