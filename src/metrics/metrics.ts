// Prometheus metrics, read from the dataplane at scrape time: each collect() pulls the
// per-lcore and per-port counters once; no timer copies them in between.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HostPort } from '../config/config';
import type { Snapshot } from '../dataplane/dataplane';
import { COUNTER_HELP, COUNTER_NAMES, DROP_REASONS, VIOLATION_REASONS } from '../dataplane/counter_names';
import { workerLoad } from '../dataplane/worker_load';
import type { LearnerStats } from '../learning/learner';
import type { FaultCounts } from '../daemon/fault_watch';

export interface MetricsSource {
  snapshot(): Snapshot;
  updatesApplied(): number;
  learner(): LearnerStats;
  /** Stalls of the control side (FaultWatch). */
  faults?(): FaultCounts;
  /** In a fabric: what the etcd sync reports. */
  fabric?(): { up: boolean; lagSeconds: number | null; remoteBindings: number; published: number; received: number };
}

type PortField = 'rx' | 'tx' | 'rxBytes' | 'txBytes' | 'rxMissed' | 'rxErrors' | 'txErrors' | 'rxNoMbuf' | 'linkUps' | 'linkDowns';
const PORT_COUNTERS: [string, PortField, string][] = [
  ['microarp_port_rx_packets_total', 'rx', 'Frames received by the port (DPDK ipackets)'],
  ['microarp_port_tx_packets_total', 'tx', 'Frames sent by the port (DPDK opackets)'],
  ['microarp_port_rx_bytes_total', 'rxBytes', 'Bytes received by the port (DPDK ibytes)'],
  ['microarp_port_tx_bytes_total', 'txBytes', 'Bytes sent by the port (DPDK obytes)'],
  ['microarp_port_rx_missed_total', 'rxMissed', 'Frames the port dropped for lack of RX descriptors (DPDK imissed)'],
  ['microarp_port_rx_errors_total', 'rxErrors', 'Erroneous frames received (DPDK ierrors)'],
  ['microarp_port_tx_errors_total', 'txErrors', 'Frames the port failed to send (DPDK oerrors)'],
  ['microarp_port_rx_nombuf_total', 'rxNoMbuf', 'RX mbuf allocation failures (DPDK rx_nombuf)'],
  ['microarp_port_link_ups_total', 'linkUps', 'Times the link came up (a vhost-user guest connected)'],
  ['microarp_port_link_downs_total', 'linkDowns', 'Times the link went down (a vhost-user guest went away)'],
];

export class Metrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<string>;
  private server?: Server;
  private cached?: { at: number; snapshot: Snapshot };
  /** Where the server listens, once started. */
  address?: string;

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    // A counter with no labels whose value is read from elsewhere at scrape time.
    const pulledCounter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    // One snapshot per scrape, shared by every collector of that scrape.
    const snap = (): Snapshot => {
      const now = Date.now();
      if (!this.cached || now - this.cached.at > 100) this.cached = { at: now, snapshot: this.source.snapshot() };
      return this.cached.snapshot;
    };

    for (const name of COUNTER_NAMES) {
      new Counter({
        name: `microarp_${name}_total`,
        help: `${COUNTER_HELP[name]}, per worker lcore`,
        labelNames: ['lcore'],
        registers,
        collect() {
          this.reset();
          for (const l of snap().lcores) this.inc({ lcore: String(l.lcore) }, l.counters[name]);
        },
      });
    }
    new Gauge({
      name: 'microarp_worker_cycles_per_frame',
      help: 'TSC cycles a worker spent per frame received, since start (rate(microarp_busy_cycles_total) / rate(microarp_rx_packets_total) for an interval), per worker lcore',
      labelNames: ['lcore'],
      registers,
      collect() {
        this.reset();
        for (const l of snap().lcores) {
          const perFrame = workerLoad(l.counters).cycles_per_frame;
          if (perFrame !== null) this.set({ lcore: String(l.lcore) }, perFrame);
        }
      },
    });
    new Counter({
      name: 'microarp_dropped_frames_total',
      help: 'Frames freed instead of sent, per worker lcore and reason',
      labelNames: ['lcore', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const l of snap().lcores) {
          for (const reason of DROP_REASONS) this.inc({ lcore: String(l.lcore), reason }, l.drops[reason]);
        }
      },
    });
    for (const [name, fieldName, help] of PORT_COUNTERS) {
      new Counter({
        name,
        help,
        labelNames: ['port'],
        registers,
        collect() {
          this.reset();
          for (const p of snap().ports) this.inc({ port: p.name }, p[fieldName]);
        },
      });
    }
    new Gauge({
      name: 'microarp_port_link_up',
      help: '1 when the port reports link up',
      labelNames: ['port'],
      registers,
      collect() {
        for (const p of snap().ports) this.set({ port: p.name }, p.link.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'microarp_table_bindings',
      help: 'Bindings in the table, IPv4 and IPv6',
      registers,
      collect() {
        this.set(snap().table.bindings);
      },
    });
    new Gauge({
      name: 'microarp_table_ipv6_bindings',
      help: 'IPv6 bindings in the table (part of microarp_table_bindings)',
      registers,
      collect() {
        this.set(snap().table.ipv6Bindings);
      },
    });
    new Gauge({
      name: 'microarp_table_ipv6_capacity_bindings',
      help: 'IPv6 bindings the IPv6 table is sized for (table.ipv6_capacity)',
      registers,
      collect() {
        this.set(snap().table.ipv6Capacity);
      },
    });
    new Gauge({
      name: 'microarp_table_capacity_bindings',
      help: 'Bindings the table is sized for (table.capacity)',
      registers,
      collect() {
        this.set(snap().table.capacity);
      },
    });
    new Gauge({
      name: 'microarp_update_ring_depth',
      help: 'Table updates waiting in the ring for the writer',
      registers,
      collect() {
        this.set(snap().table.ringDepth);
      },
    });
    pulledCounter('microarp_control_stalls_total', 'Times the control side (Node) was stalled for over a second while the workers kept answering', () =>
      source.faults?.().control_stalls ?? 0);
    pulledCounter('microarp_control_stalled_seconds_total', 'Seconds the control side spent stalled', () => source.faults?.().control_stalled_seconds ?? 0);
    pulledCounter('microarp_update_ring_full_waits_total', 'Times a table write found the update ring full and waited for the writer (backpressure)', () =>
      snap().table.ringFullWaits);
    new Gauge({
      name: 'microarp_mbufs_in_use',
      help: 'mbufs out of the pool (in queues, rings and backlogs); rising under steady traffic means a leak',
      registers,
      collect() {
        this.set(snap().mbufs.inUse);
      },
    });
    new Gauge({
      name: 'microarp_mbufs',
      help: 'mbufs in the pool (the mbufs key, or sized from ports, workers and descriptors)',
      registers,
      collect() {
        this.set(snap().mbufs.total);
      },
    });
    new Gauge({
      name: 'microarp_dpdk_heap_allocated_bytes',
      help: "Bytes allocated from DPDK's heaps (tables, rings, pools)",
      registers,
      collect() {
        this.set(snap().heap.allocatedBytes);
      },
    });
    new Gauge({
      name: 'microarp_arp_suppression_ratio',
      help: 'Share of ARP requests answered by microarp instead of being broadcast (replies sent / requests seen)',
      registers,
      collect() {
        const t = snap().totals;
        this.set(t.arp_requests > 0 ? t.replies_sent / t.arp_requests : 0);
      },
    });
    new Gauge({
      name: 'microarp_fdb_entries',
      help: 'Entries in the forwarding database (learned and static)',
      registers,
      collect() {
        this.set(snap().fdb.entries);
      },
    });
    const fdbCounters: [string, 'learned' | 'moved' | 'aged' | 'overflow' | 'eventsLost', string][] = [
      ['microarp_fdb_learned_total', 'learned', 'MACs the FDB learned'],
      ['microarp_fdb_moves_total', 'moved', 'MACs the FDB saw move to another port'],
      ['microarp_fdb_aged_total', 'aged', 'Learned FDB entries removed after fdb.aging_seconds of silence'],
      ['microarp_fdb_overflow_total', 'overflow', 'MACs not learned because the FDB was at fdb.capacity'],
      ['microarp_fdb_events_lost_total', 'eventsLost', 'FDB change reports the control side did not drain in time'],
    ];
    for (const [name, key, help] of fdbCounters) pulledCounter(name, help, () => snap().fdb[key]);
    new Counter({
      name: 'microarp_arp_inspection_violations_total',
      help: 'ARP and Neighbor Discovery frames that failed inspection on untrusted ports, per worker lcore and reason (dropped in enforce mode: drop reasons arp_inspection and nd_inspection)',
      labelNames: ['lcore', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const l of snap().lcores) {
          for (const reason of VIOLATION_REASONS) this.inc({ lcore: String(l.lcore), reason }, l.violations[reason]);
        }
      },
    });
    const learner = (): LearnerStats => this.source.learner();
    const learnerCounters: [string, keyof LearnerStats, string][] = [
      ['microarp_bindings_learned_total', 'learned', 'Bindings learned from ARP and Neighbor Discovery'],
      ['microarp_bindings_aged_total', 'aged', 'Learned bindings removed after silence and an unanswered probe'],
      ['microarp_learn_overflow_total', 'overflow', 'Bindings not learned because a per-port or per-VLAN cap was reached'],
      ['microarp_learn_outside_subnet_total', 'outsideSubnet', 'Senders not learned because they are outside learning.subnets'],
      ['microarp_probes_sent_total', 'probesSent', 'Unicast probes sent to binding owners (ARP probes, or Neighbor Solicitations for IPv6)'],
      ['microarp_conflicts_total', 'conflicts', 'Claims of a bound IP by another MAC'],
      ['microarp_claims_refused_total', 'claimsRefused', 'Conflicting claims refused (owner answered, higher source, or frozen)'],
      ['microarp_claims_won_total', 'claimsWon', 'Conflicting claims that replaced a silent owner'],
      ['microarp_binding_moves_total', 'moves', 'Bindings whose MAC moved to another port'],
      ['microarp_binding_freezes_total', 'freezes', 'Bindings frozen for moving too often'],
      ['microarp_garps_sent_total', 'garpsSent', 'Gratuitous ARPs sent to announce a moved binding'],
      ['microarp_nas_sent_total', 'nasSent', 'Unsolicited Neighbor Advertisements sent to announce a moved IPv6 binding'],
    ];
    for (const [name, key, help] of learnerCounters) pulledCounter(name, help, () => learner()[key]);
    pulledCounter('microarp_table_updates_total', 'Table updates (adds, replaces, removes) applied through the ring', () =>
      this.source.updatesApplied(),
    );
    const fabric = this.source.fabric?.bind(this.source);
    if (fabric) {
      const gauge = (name: string, help: string, read: () => number): void => {
        new Gauge({ name, help, registers, collect() { this.set(read()); } });
      };
      gauge('microarp_fabric_etcd_up', '1 while the fabric is connected to etcd', () => (fabric().up ? 1 : 0));
      gauge('microarp_fabric_sync_lag_seconds', 'Seconds since etcd last answered', () => fabric().lagSeconds ?? -1);
      gauge('microarp_fabric_remote_bindings', 'Bindings installed here from other hosts of the fabric', () => fabric().remoteBindings);
      pulledCounter('microarp_fabric_published_total', 'Binding writes this host made to etcd', () => fabric().published);
      pulledCounter('microarp_fabric_received_total', "Other hosts' binding changes received from etcd", () => fabric().received);
    }
    this.latency = new Histogram({
      name: 'microarp_update_latency_seconds',
      help: 'Time from submitting a batch of table updates to its being visible to the workers',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
  }

  observeUpdate(seconds: number): void {
    this.latency.observe(seconds);
  }

  async start(listen: HostPort): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('microarp serves /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : listen.port;
    this.address = `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}/metrics`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
