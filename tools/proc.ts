/**
 * Reading Linux `/proc`: CPU time per thread and for the whole machine,
 * memory fields, the CPU model; and a process's resident memory and open
 * descriptors. The parsers are pure (text in, values out); only
 * {@linkcode processUsage} reads files. Used by the bench, the soak and the
 * reliability tests.
 *
 * @module
 */

/** Clock ticks per second in `/proc/.../stat` (`sysconf(_SC_CLK_TCK)`, 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** One thread's CPU time, from `/proc/PID/task/TID/stat`. */
export interface ThreadCpu {
  name: string;
  /** User plus system time, in seconds. */
  seconds: number;
}

/**
 * Parses a `/proc/.../stat` line: the name (which may hold spaces and
 * parentheses) and user + system CPU time.
 *
 * @example
 * ```ts
 * parseThreadStat("42 (V8 DefaultWorke) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 9 9 9");
 * // { name: "V8 DefaultWorke", seconds: 2 }
 * ```
 * @throws {Error} if the line is not a stat line
 */
export function parseThreadStat(line: string): ThreadCpu {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open === -1 || close < open) {
    throw new Error(`línea de /proc/.../stat ilegible: ${line.slice(0, 60)}`);
  }
  const fields = line.slice(close + 2).split(" ");
  // After the name: state is field 3, utime field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`línea de /proc/.../stat ilegible: ${line.slice(0, 60)}`);
  }
  return { name: line.slice(open + 1, close), seconds: (utime + stime) / CLOCK_TICKS_PER_SECOND };
}

/** Machine-wide CPU time, from the first line of `/proc/stat`, in seconds. */
export interface MachineCpu {
  busy: number;
  total: number;
}

/**
 * Parses the `cpu` line of `/proc/stat`: busy is everything but idle and
 * I/O wait.
 *
 * @example
 * ```ts
 * parseMachineCpu("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 ...");
 * // { busy: 1.5, total: 10 }
 * ```
 */
export function parseMachineCpu(procStat: string): MachineCpu {
  const line = procStat.split("\n").find((text) => text.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat no tiene línea cpu");
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}

/**
 * Reads a `kB` field (`VmRSS`, `VmHWM`, `MemTotal`, ...) from
 * `/proc/PID/status` or `/proc/meminfo` text, in bytes.
 *
 * @example
 * ```ts
 * readKilobytes("Name:\tdeno\nVmRSS:\t   74748 kB\n", "VmRSS"); // 76541952
 * ```
 * @throws {Error} if the field is missing
 */
export function readKilobytes(text: string, field: string): number {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m"));
  if (!match) throw new Error(`falta el campo ${field}`);
  return Number(match[1]) * 1024;
}

/**
 * The CPU model and the number of logical processors, from `/proc/cpuinfo`.
 *
 * @example
 * ```ts
 * parseCpuInfo("processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n");
 * // { model: "AMD EPYC", processors: 2 }
 * ```
 */
export function parseCpuInfo(text: string): { model: string; processors: number } {
  const processors = text.match(/^processor\s*:/gm)?.length ?? 0;
  const model = text.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ??
    text.match(/^(?:Hardware|cpu model|uarch)\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
  return { model, processors };
}

/**
 * Resident memory (bytes; NaN for a process that has exited but not been
 * reaped, which has none) and open descriptors of a process.
 *
 * @throws {Deno.errors.NotFound} if the process is gone
 */
export function processUsage(pid: number): { rssBytes: number; fds: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssBytes = /^VmRSS:/m.test(status) ? readKilobytes(status, "VmRSS") : NaN;
  let fds = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
  return { rssBytes, fds };
}
