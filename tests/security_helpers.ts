/**
 * Helpers for the security tests: certificates made at test time with
 * `openssl` (two independent CAs, each signing a server certificate for
 * localhost, 127.0.0.1 and ::1), a tokens file, and a line client over any
 * connection, plain or TLS.
 *
 * @module
 */
import { writeAll } from "../lib/util/net.ts";

/** Whether `openssl` can be run here; tests that need it are ignored otherwise. */
export const HAS_OPENSSL = await (async () => {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
})();
if (!HAS_OPENSSL) console.log("openssl no está instalado: se omiten las pruebas de TLS");

/** One CA and the server certificate it signed. */
export interface Pki {
  /** The CA certificate, PEM file. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate, PEM text. */
  ca: string;
}

async function openssl(args: string[], cwd: string) {
  const output = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/**
 * Makes a CA and a server certificate for localhost, 127.0.0.1 and ::1 in
 * `dir`, named after `name`. EC P-256 keys: fast to generate.
 */
export async function makePki(dir: string, name: string): Promise<Pki> {
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    ["req", "-x509", ...ecKey, "-keyout", `${name}-ca.key`, "-out", `${name}-ca.pem`, "-days", "2"]
      .concat(["-subj", `/CN=Pruebas ${name}`]),
    dir,
  );
  await openssl(
    ["req", ...ecKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", "/CN=localhost"],
    dir,
  );
  await Deno.writeTextFile(
    `${dir}/${name}.ext`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  await openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", `${name}-ca.pem`, "-CAkey", `${name}-ca.key`]
      .concat(["-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]),
    dir,
  );
  return {
    caFile: `${dir}/${name}-ca.pem`,
    certFile: `${dir}/${name}.pem`,
    keyFile: `${dir}/${name}.key`,
    ca: await Deno.readTextFile(`${dir}/${name}-ca.pem`),
  };
}

/** Tokens for the tests: long enough, distinct, easy to spot in a log. */
export const TOKENS = {
  cliente: "cliente-5e0b7f3a9c1d4e2f8a6b",
  operador: "operador-1a2b3c4d5e6f7a8b9c0d",
} as const;

/** Writes a tokens file (owner-only) with both roles; returns its path. */
export async function writeTokens(dir: string): Promise<string> {
  const path = `${dir}/tokens`;
  await Deno.writeTextFile(
    path,
    `# pruebas\ncliente ${TOKENS.cliente}\noperador ${TOKENS.operador}\n`,
    { mode: 0o600 },
  );
  await Deno.chmod(path, 0o600);
  return path;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A protocol client over any connection: send JSON lines, read JSON lines. */
export class LineClient implements AsyncDisposable {
  readonly conn: Deno.Conn;
  #buffer = "";
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Connects over TLS, trusting `ca`, verifying the certificate against `hostname`. */
  static async tls(port: number, hostname: string, ca: string): Promise<LineClient> {
    const conn = await Deno.connectTls({ hostname, port, caCerts: [ca] });
    await conn.handshake();
    return new LineClient(conn);
  }

  /** Connects over plain TCP. */
  static async tcp(port: number, hostname: string): Promise<LineClient> {
    return new LineClient(await Deno.connect({ hostname, port }));
  }

  /** Sends `text` whole. */
  send(text: string): Promise<void> {
    return writeAll(this.conn, encoder.encode(text));
  }

  /** The next line parsed as JSON, or `null` once the server has closed. */
  async read(timeoutMs = 10_000): Promise<Record<string, unknown> | null> {
    const chunk = new Uint8Array(16 * 1024);
    const deadline = Date.now() + timeoutMs;
    while (!this.#buffer.includes("\n")) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
      });
      const count = await Promise.race([
        this.conn.read(chunk).catch((error) => {
          if (error instanceof Deno.errors.ConnectionReset) return null;
          throw error;
        }),
        timeout,
      ]).finally(() => clearTimeout(timer));
      if (count === "timeout") throw new Error(`no line within ${timeoutMs} ms`);
      if (count === null) return null;
      this.#buffer += decoder.decode(chunk.subarray(0, count), { stream: true });
    }
    const index = this.#buffer.indexOf("\n");
    const line = this.#buffer.slice(0, index);
    this.#buffer = this.#buffer.slice(index + 1);
    return JSON.parse(line);
  }

  /** Sends one request line and reads one line back. */
  async request(value: object): Promise<Record<string, unknown>> {
    await this.send(JSON.stringify(value) + "\n");
    const reply = await this.read();
    if (reply === null) throw new Error("connection closed before a reply");
    return reply;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // The server closed it first.
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
