import assert from "node:assert/strict";
import { ConnectionError } from "./errors.ts";
import { backoffDelay, RETRY_BASE_MS, RETRY_CAP_MS, withRetries } from "./retry.ts";

Deno.test("backoffDelay doubles each retry, half fixed and half random, up to the cap", () => {
  assert.equal(backoffDelay(0, () => 0), RETRY_BASE_MS / 2);
  assert.equal(backoffDelay(0, () => 1), RETRY_BASE_MS);
  assert.equal(backoffDelay(2, () => 0.5), Math.round(RETRY_BASE_MS * 4 * 0.75));
  assert.equal(backoffDelay(30, () => 1), RETRY_CAP_MS);
  assert.equal(backoffDelay(30, () => 0), RETRY_CAP_MS / 2);
});

Deno.test("withRetries retries a retriable failure with growing waits until it succeeds", async () => {
  const waits: number[] = [];
  const notices: string[] = [];
  let calls = 0;
  const result = await withRetries(() => {
    calls++;
    if (calls < 3) return Promise.reject(new ConnectionError("rechazada", "nadie escucha"));
    return Promise.resolve("hecho");
  }, {
    retries: 5,
    random: () => 0,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    onRetry: ({ reasons, retry, retries, delayMs }) =>
      notices.push(`${[...reasons.keys()]} ${retry}/${retries} ${delayMs}`),
  });
  assert.equal(result, "hecho");
  assert.deepEqual(waits, [50, 100]);
  assert.deepEqual(notices, ["nadie escucha 1/5 50", "nadie escucha 2/5 100"]);
});

Deno.test("withRetries gives up after its retries and never retries a timeout", async () => {
  const noWait = { sleep: () => Promise.resolve(), onRetry: () => {} };
  let calls = 0;
  await assert.rejects(
    withRetries(() => {
      calls++;
      return Promise.reject(new ConnectionError("rechazada", "nadie escucha"));
    }, { retries: 2, ...noWait }),
    /nadie escucha/,
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    withRetries(() => {
      calls++;
      return Promise.reject(new ConnectionError("tiempo", "sin respuesta"));
    }, { retries: 2, ...noWait }),
    /sin respuesta/,
  );
  assert.equal(calls, 1);
});
