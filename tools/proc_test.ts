import assert from "node:assert/strict";
import {
  parseCpuInfo,
  parseMachineCpu,
  parseThreadStat,
  processUsage,
  readKilobytes,
} from "./proc.ts";

Deno.test("a thread's stat line gives its name and user plus system seconds", () => {
  const line = "24435 (V8 DefaultWorke) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 9 9 9";
  assert.deepEqual(parseThreadStat(line), { name: "V8 DefaultWorke", seconds: 2 });
});

Deno.test("a name holding parentheses and spaces does not shift the fields", () => {
  const line = "7 (a) b (c)) R 1 2 3 4 5 6 7 8 9 10 300 100 0 0 20 0 1 0";
  assert.deepEqual(parseThreadStat(line), { name: "a) b (c)", seconds: 4 });
  assert.throws(() => parseThreadStat("garbage"), Error);
});

Deno.test("machine CPU counts everything but idle and I/O wait as busy", () => {
  const stat = "cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 50 5 25 400 20 0 0 0 0 0\nintr 1\n";
  assert.deepEqual(parseMachineCpu(stat), { busy: 1.6, total: 10 });
  assert.throws(() => parseMachineCpu("intr 1\n"), Error);
});

Deno.test("kilobyte fields are read in bytes, and a missing one is an error", () => {
  const status = "Name:\tdeno\nVmHWM:\t  120000 kB\nVmRSS:\t   74748 kB\n";
  assert.equal(readKilobytes(status, "VmRSS"), 74748 * 1024);
  assert.equal(readKilobytes(status, "VmHWM"), 120000 * 1024);
  assert.equal(readKilobytes("MemTotal:       24684148 kB\n", "MemTotal"), 24684148 * 1024);
  assert.throws(() => readKilobytes(status, "VmSwap"), Error);
});

Deno.test("cpuinfo gives the model and counts the processors", () => {
  const text = "processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n";
  assert.deepEqual(parseCpuInfo(text), { model: "AMD EPYC", processors: 2 });
  assert.deepEqual(parseCpuInfo("processor\t: 0\nHardware\t: BCM2835\n"), {
    model: "BCM2835",
    processors: 1,
  });
});

Deno.test("this process's own usage is read: some resident memory and a few descriptors", () => {
  const usage = processUsage(Deno.pid);
  assert.ok(usage.rssBytes > 1024 * 1024, `${usage.rssBytes} bytes`);
  assert.ok(usage.fds >= 3, `${usage.fds} descriptors`);
});
