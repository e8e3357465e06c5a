/**
 * Helpers for the security tests: certificates made at test time with
 * `openssl` (two independent CAs, each signing a server certificate for
 * localhost, 127.0.0.1 and ::1), a tokens file, and a line client over any
 * connection, plain or TLS.
 *
 * @module
 */

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
