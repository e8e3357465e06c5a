/**
 * `estadisticas` on a server of a cluster: this server's run, as on any
 * server, plus a `cluster` object with the whole cluster's figures (its
 * servers, its limit, and its orders en cola and en proceso). Built once
 * per change of either part, like the shared snapshot it extends.
 *
 * @module
 */
import type { SharedSnapshot } from "../stats/cache.ts";
import type { StatsReply } from "../stats/snapshot.ts";
import type { ClusterFigures } from "../store/types.ts";

/** A run's statistics with the cluster's figures. */
export type ClusterStatsReply = StatsReply & { cluster: Readonly<ClusterFigures> };

/**
 * Adds the cluster's figures to shared snapshots, reusing the last result
 * while neither part changed.
 *
 * @example
 * ```ts ignore
 * const withCluster = new ClusterSnapshots();
 * const { snapshot, json } = withCluster.add(service.statistics(options), cluster.figures());
 * ```
 */
export class ClusterSnapshots {
  #last: { base: SharedSnapshot; figures: ClusterFigures; shared: SharedSnapshot } | undefined;

  /** `base` with a `cluster` field holding `figures`. */
  add(base: SharedSnapshot, figures: ClusterFigures): SharedSnapshot {
    const last = this.#last;
    if (last && last.base === base && last.figures === figures) return last.shared;
    const cluster = Object.freeze({
      ...figures,
      instancias: Object.freeze([...figures.instancias]),
    });
    const snapshot: Readonly<ClusterStatsReply> = Object.freeze({ ...base.snapshot, cluster });
    // The base's JSON is an object: open it again to append the cluster.
    const json = `${base.json.slice(0, -1)},"cluster":${JSON.stringify(cluster)}}`;
    const shared = { snapshot, json };
    this.#last = { base, figures, shared };
    return shared;
  }
}
