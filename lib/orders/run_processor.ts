/**
 * The shop's processor, run inside a worker. The worker imports the module
 * by URL (with the worker's own permissions, so the sandbox applies to its
 * top-level code too), calls its default export once per order with an
 * `AbortSignal`, and answers the pool as the simulated work does: one reply
 * per order, each message answered in kind and in order, one order at a
 * time, noting in the worker's cells when each starts and ends (the pool
 * judges timeouts by them).
 *
 * The signal fires for two reasons. Shortly before `--timeout-ms` (see
 * `abortNoticeMs`), by the worker's own timer: the attempt then fails as a
 * timeout, whatever the processor returns, and a processor that stops in
 * time keeps its worker. Or when the pool cancels the worker's cell, which
 * only reaches a running processor at shutdown: the order is then handed
 * back unfinished and taken up again at the next start.
 *
 * @module
 */
import { abortNoticeMs, type Processor, type ProcessorOrder } from "./processor.ts";
import { describeFailure, describeLoadError, encodeResult } from "./processor_outcome.ts";
import {
  mayStart,
  noteFinished,
  noteStarted,
  whenCancelled,
  type WorkReply,
  type WorkRequest,
} from "./work.ts";

/** Main thread → worker, at start-up: load the processor once and say whether it can run. */
export interface LoadRequest {
  cargarProcesador: string;
}

/** Worker → main thread: the answer to a {@linkcode LoadRequest}. */
export type LoadReply = { cargado: true } | { errorDeCarga: string };

/** Imports a module by URL. In a worker, the worker's own `import()`, so its permissions apply. */
export type ModuleImporter = (url: string) => Promise<Record<string, unknown>>;

/**
 * One worker's processor: loaded on first use, then run order after order.
 *
 * @example
 * ```ts
 * const runner = new ProcessorRunner((reply) => self.postMessage(reply));
 * self.onmessage = (event) => runner.handle(event.data);
 * ```
 */
export class ProcessorRunner {
  readonly #post: (reply: WorkReply | WorkReply[]) => void;
  readonly #importModule: ModuleImporter;
  #processor: Promise<Processor> | undefined;
  /** The messages so far, each run after the one before. */
  #chain: Promise<void> = Promise.resolve();
  #watching = false;
  /** The running order's controller, for the cell's watcher to abort. */
  #current: AbortController | undefined;
  /** Set once the cell is cancelled: the reason the watcher aborted with. */
  #stopReason: DOMException | undefined;

  constructor(
    post: (reply: WorkReply | WorkReply[]) => void,
    importModule: ModuleImporter = (url) => import(url),
  ) {
    this.#post = post;
    this.#importModule = importModule;
  }

  /** Loads the processor, once, and says whether its default export is a function. */
  async load(url: string): Promise<LoadReply> {
    try {
      await this.#load(url);
      return { cargado: true };
    } catch (error) {
      return { errorDeCarga: describeLoadError(error) };
    }
  }

  /** Queues a message of the pool: one order or a list, answered in kind once all have run. */
  handle(message: WorkRequest | WorkRequest[]): void {
    this.#chain = this.#chain.then(async () => {
      const requests = Array.isArray(message) ? message : [message];
      const replies: WorkReply[] = [];
      for (const request of requests) replies.push(await this.#run(request));
      this.#post(Array.isArray(message) ? replies : replies[0]!);
    });
  }

  #load(url: string): Promise<Processor> {
    this.#processor ??= this.#importModule(url).then((module) => {
      const processor = module.default;
      if (typeof processor !== "function") {
        throw new TypeError(
          processor === undefined
            ? "el módulo no tiene export default (se espera una función)"
            : `su export default no es una función, sino ${typeof processor}`,
        );
      }
      return processor as Processor;
    });
    return this.#processor;
  }

  /** Never rejects: whatever happens becomes the order's reply. */
  async #run(request: WorkRequest): Promise<WorkReply> {
    const { id, procesador } = request;
    if (request.cancel) this.#watch(request.cancel);
    if (!procesador || !mayStart(request)) return { id, omitido: true };
    const { timeoutMs } = procesador;
    const signalAt = timeoutMs - abortNoticeMs(timeoutMs);
    const controller = new AbortController();
    const { signal } = controller;
    const timer = setTimeout(
      () => controller.abort(new DOMException("tiempo agotado", "TimeoutError")),
      signalAt,
    );
    this.#current = controller;
    const { cancel: cell, seq } = request;
    const inicio = Date.now();
    if (cell && seq) noteStarted(cell, seq, inicio);
    const outcome = await this.#attempt(procesador.url, request, signal);
    clearTimeout(timer);
    this.#current = undefined;
    const fin = Date.now();
    if (cell && seq) noteFinished(cell, seq);
    if (signal.aborted) {
      if (signal.reason === this.#stopReason) return { id, omitido: true };
      return {
        id,
        inicio,
        fin,
        motivo:
          `tiempo agotado: la señal de aborto se disparó a los ${signalAt} ms (límite ${timeoutMs} ms)`,
      };
    }
    if ("loadError" in outcome) {
      return { id, inicio, fin, motivo: describeLoadError(outcome.loadError) };
    }
    if ("error" in outcome) return { id, inicio, fin, motivo: describeFailure(outcome.error) };
    const encoded = encodeResult(outcome.value);
    if ("motivo" in encoded) return { id, inicio, fin, motivo: encoded.motivo };
    return encoded.json === undefined
      ? { id, inicio, fin }
      : { id, inicio, fin, resultado: encoded.json };
  }

  /** Loads and calls the processor; never rejects. */
  async #attempt(url: string, request: WorkRequest, signal: AbortSignal): Promise<Outcome> {
    let processor: Processor;
    try {
      processor = await this.#load(url);
    } catch (loadError) {
      return { loadError };
    }
    if (signal.aborted) return { value: undefined };
    try {
      return { value: await processor(processorOrder(request), { signal }) };
    } catch (error) {
      return { error };
    }
  }

  /**
   * A worker has one cell for its whole life, watched from its first order:
   * once cancelled, it stops the running order and, through `mayStart`,
   * every later one.
   */
  #watch(cell: Int32Array) {
    if (this.#watching) return;
    this.#watching = true;
    whenCancelled(cell).then(() => {
      this.#stopReason = new DOMException("el servidor se está apagando", "AbortError");
      this.#current?.abort(this.#stopReason);
    });
  }
}

/** What one call of the processor came to. */
type Outcome = { value: unknown } | { error: unknown } | { loadError: unknown };

function processorOrder(request: WorkRequest): ProcessorOrder {
  const { pedido } = request;
  return {
    id: request.id,
    cliente: pedido.cliente,
    productos: [...pedido.productos],
    direccion: pedido.direccion,
    intento: request.procesador!.intento,
    recibido: new Date(pedido.recibido).toISOString(),
  };
}
