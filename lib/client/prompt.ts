/**
 * Asking a person at a terminal for the order fields the flags left out,
 * with the seed's prompts. An answer the schema rejects is asked again.
 *
 * @module
 */
import { InputError } from "./errors.ts";
import { LineReader } from "../wire/lines.ts";
import {
  describeErrores,
  missingFields,
  type OrderFields,
  REQUIRED_FIELDS,
  splitProducts,
} from "./orders.ts";
import { parseOrder } from "../wire/schema.ts";

/** The seed's prompts, one per required field. */
export const PROMPTS: Record<(typeof REQUIRED_FIELDS)[number], string> = {
  cliente: "Nombre del cliente: ",
  productos: "Productos (separados por coma): ",
  direccion: "Dirección de entrega: ",
};

/** Where prompts are read and written. */
export interface PromptIO {
  stdin: ReadableStream<Uint8Array>;
  /** Prompts go to stderr, so that stdout holds only results. */
  stderr: { write(text: string): void };
}

/**
 * Asks for every missing required field, in order, then again for any
 * answer the schema rejects (showing why). Fields given on the command line
 * are never asked; if they are invalid, validation reports them later.
 *
 * @example
 * ```ts
 * const fields = await askMissing({ cliente: "Ana" }, { stdin: Deno.stdin.readable, stderr });
 * // asks "Productos (separados por coma): " and "Dirección de entrega: "
 * ```
 * @throws {InputError} if the input ends before every answer is given
 */
export async function askMissing(fields: OrderFields, io: PromptIO): Promise<OrderFields> {
  const reader = new LineReader(io.stdin);
  try {
    const answers: OrderFields = { ...fields };
    let toAsk = missingFields(fields);
    while (toAsk.length > 0) {
      for (const field of toAsk) {
        io.stderr.write(PROMPTS[field]);
        const line = await reader.readLine();
        if (line === null) {
          io.stderr.write("\n");
          throw new InputError("la entrada terminó antes de completar el pedido");
        }
        if (field === "productos") answers.productos = splitProducts([line]);
        else answers[field] = line;
      }
      const validation = parseOrder({ ...answers });
      if (validation.ok) break;
      const asked = new Set<string>(toAsk);
      const wrong = Object.entries(validation.errores)
        .filter(([path]) => asked.has(path.split(".")[0]!));
      io.stderr.write(`  ❌ ${describeErrores(Object.fromEntries(wrong))}\n`);
      toAsk = toAsk.filter((field) => wrong.some(([path]) => path.split(".")[0] === field));
    }
    return answers;
  } finally {
    reader.release();
  }
}
