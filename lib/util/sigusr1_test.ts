import assert from "node:assert/strict";
import { ignoreSigusr1, libcSignal } from "./sigusr1.ts";

Deno.test("libcSignal names libc and SIGUSR1's number on Linux and macOS, and nothing on Windows", () => {
  assert.deepEqual(libcSignal("linux"), { library: "libc.so.6", sigusr1: 10 });
  assert.deepEqual(libcSignal("darwin"), { library: "/usr/lib/libSystem.B.dylib", sigusr1: 30 });
  assert.equal(libcSignal("windows"), null);
  assert.equal(libcSignal("freebsd"), undefined);
});

const notLinux = Deno.build.os === "linux" ? undefined : "reads /proc, which only Linux has";

Deno.test({
  name: `ignoreSigusr1 makes the kernel discard SIGUSR1 and gives up the FFI permission${
    notLinux ? ` (skipped: ${notLinux})` : ""
  }`,
  ignore: notLinux !== undefined,
  async fn() {
    assert.equal(Deno.permissions.querySync({ name: "ffi" }).state, "granted");
    assert.equal(ignoreSigusr1(), undefined);
    // Deno lets a process read its own /proc entry only with every permission,
    // which it no longer has without FFI: another program reads it instead.
    const status = await new Deno.Command("cat", { args: [`/proc/${Deno.pid}/status`] }).output();
    // SigIgn is a hexadecimal mask of ignored signals, bit n - 1 for signal n.
    const mask = new TextDecoder().decode(status.stdout).match(/^SigIgn:\s+(\w+)$/m)?.[1];
    assert.equal((BigInt(`0x${mask}`) >> 9n) & 1n, 1n, `SigIgn: ${mask}`);
    assert.notEqual(Deno.permissions.querySync({ name: "ffi" }).state, "granted");
    assert.equal(ignoreSigusr1(), undefined, "a second call is a no-op");
  },
});
