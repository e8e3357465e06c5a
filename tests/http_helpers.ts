/**
 * Helpers for the HTTP side's end-to-end tests: scrapes, readiness, and the
 * `estadisticas` request to compare against.
 *
 * @module
 */
import { parseScrape, type Scrape } from "./prometheus.ts";
import { TestClient } from "./helpers.ts";
import type { StatsReply } from "../lib/stats/snapshot.ts";

/** `/metrics`, fetched and parsed. */
export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(new URL("metrics", url));
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseScrape(await response.text());
}

/** `/readyz`: its status and JSON body. */
export async function readiness(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL("readyz", url));
  return { status: response.status, body: await response.json() };
}

/** The dashboard URL a spawned server logged. */
export function httpUrlFrom(stderr: string): string {
  const match = /panel, métricas y comprobaciones en (\S+)/.exec(stderr);
  if (!match) throw new Error(`no HTTP address in the log:\n${stderr}`);
  return match[1]!;
}

/** Asks a server for its statistics over TCP, as any client would. */
export async function estadisticas(port: number): Promise<StatsReply> {
  await using client = await TestClient.open(port);
  const reply = await client.request({ tipo: "estadisticas" });
  return reply.estadisticas as StatsReply;
}
