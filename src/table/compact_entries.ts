// The control side's bindings in typed columns: ~70 bytes a binding instead of a Map entry, a
// boxed key and an object with boxed timestamps (~376 bytes measured at 1,048,576 bindings).
//
// Slots are dense: a removal moves the last slot into the hole, so scans walk [0, size) with no
// holes to skip. An open-addressing index (linear probing, Fibonacci hashing, load <= 0.5,
// backward-shift removal so no tombstones pile up) maps a key to a slot. A slot number is
// only good until the next removal; callers outside this file see keys, snapshots (`Entry`
// objects they own) and a cursor that is valid for one step of a scan.
//
// One store per address family, sharing everything but the key (EntryColumns):
//   CompactEntries:  IPv4, the key (vlan, ip) in a Uint16 and a Uint32 column;
//   CompactEntries6: IPv6, the key (vlan, address) in a Uint16 column and four Uint32 columns,
//                    the address's 32-bit words most significant first (a0 = bytes 0-3 of the
//                    address in network order, read big-endian), plus the router flag.
// Each has its own index; neither knows the other (BindingTable holds one of each).
import type { BindingSource } from '../dataplane/updates';
import { inPrefix6, type Prefix6 } from '../dataplane/address';
import { key6OfWords, putWord, wordAt, wordsOfKey6 } from './binding_key';

/** What the control side knows of a binding beyond its MAC. */
export interface Entry {
  mac: number;
  source: BindingSource;
  /** Port the binding was learned or last seen on, if known. */
  port?: string;
  firstSeen: number;
  lastSeen: number;
  moves: number;
  /** ARP frames from the owner that confirmed the binding. */
  hits: number;
  /** The last-seen time the state store holds, so refreshes are stored only now and then. */
  storedSeen?: number;
  /** The fabric host that holds the binding; absent = this host. */
  host?: string;
  /** Mobility sequence: rises each time the binding changes MAC or host. */
  seq?: number;
  /** IPv6 only: the binding is a router's (R set in the Neighbor Advertisements). Absent = false. */
  router?: boolean;
}

const TWO32 = 2 ** 32;
const SOURCES: readonly BindingSource[] = ['static', 'api', 'learned', 'remote'];
const SOURCE_CODE: Record<BindingSource, number> = { static: 0, api: 1, learned: 2, remote: 3 };
const INITIAL_SLOTS = 1024;

/** Strings stored once and referred to by index; 0 stands for "none". */
class Interned {
  private readonly ids = new Map<string, number>();
  private readonly names: (string | undefined)[] = [undefined];

  id(name: string | undefined): number {
    if (name === undefined) return 0;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  name(id: number): string | undefined {
    return this.names[id];
  }
}

/**
 * What every binding has, whatever its family: the value columns, the dense slots and the
 * index's probing and removal, which need only a slot's home position (its key's hash). A
 * family's store adds its key columns, hashing and lookups.
 */
abstract class EntryColumns {
  protected slots = 0;
  protected count = 0;
  protected macHigh = new Uint16Array(0);
  protected macLow = new Uint32Array(0);
  protected source = new Uint8Array(0);
  protected port = new Uint32Array(0);
  protected host = new Uint32Array(0);
  protected moves = new Uint32Array(0);
  // Doubles where a value can pass 2^32 or be absent (NaN).
  protected seq = new Float64Array(0);
  protected firstSeen = new Float64Array(0);
  protected lastSeen = new Float64Array(0);
  protected storedSeen = new Float64Array(0);
  protected hits = new Float64Array(0);
  /** slot + 1 per index position, 0 = empty. */
  protected index = new Int32Array(2 * INITIAL_SLOTS);
  protected indexShift = 32 - Math.log2(2 * INITIAL_SLOTS);
  private readonly ports = new Interned();
  private readonly hosts = new Interned();

  get size(): number {
    return this.count;
  }

  /** The index position of the slot's key, hashed: the start of its probe run. */
  protected abstract homeOfSlot(slot: number): number;
  /** Copies the key of slot `from` to slot `to`. */
  protected abstract copyKey(from: number, to: number): void;
  /** Grows the key columns to `slots`. */
  protected abstract growKeys(slots: number): void;

  /** Stores `entry`'s values in `slot`. */
  protected writeValues(slot: number, entry: Entry): void {
    this.macHigh[slot] = Math.floor(entry.mac / TWO32);
    this.macLow[slot] = entry.mac % TWO32;
    this.source[slot] = SOURCE_CODE[entry.source];
    this.port[slot] = this.ports.id(entry.port);
    this.host[slot] = this.hosts.id(entry.host);
    this.seq[slot] = entry.seq ?? NaN;
    this.firstSeen[slot] = entry.firstSeen;
    this.lastSeen[slot] = entry.lastSeen;
    this.storedSeen[slot] = entry.storedSeen ?? NaN;
    this.moves[slot] = entry.moves;
    this.hits[slot] = entry.hits;
  }

  // Per-slot reads and in-place changes, for BindingTable and the scan cursors.
  macAt(slot: number): number {
    return this.macHigh[slot]! * TWO32 + this.macLow[slot]!;
  }
  sourceAt(slot: number): BindingSource {
    return SOURCES[this.source[slot]!]!;
  }
  portAt(slot: number): string | undefined {
    return this.ports.name(this.port[slot]!);
  }
  hostAt(slot: number): string | undefined {
    return this.hosts.name(this.host[slot]!);
  }
  seqAt(slot: number): number | undefined {
    const seq = this.seq[slot]!;
    return Number.isNaN(seq) ? undefined : seq;
  }
  lastSeenAt(slot: number): number {
    return this.lastSeen[slot]!;
  }
  storedSeenAt(slot: number): number | undefined {
    const seen = this.storedSeen[slot]!;
    return Number.isNaN(seen) ? undefined : seen;
  }
  setPort(slot: number, port: string | undefined): void {
    this.port[slot] = this.ports.id(port);
  }
  setLastSeen(slot: number, when: number): void {
    this.lastSeen[slot] = when;
  }
  setStoredSeen(slot: number, when: number): void {
    this.storedSeen[slot] = when;
  }
  addHit(slot: number): void {
    this.hits[slot]!++;
  }
  addMove(slot: number): void {
    this.moves[slot]!++;
  }

  /** The binding in `slot` as an object the caller owns. */
  read(slot: number): Entry {
    const entry: Entry = {
      mac: this.macAt(slot),
      source: this.sourceAt(slot),
      firstSeen: this.firstSeen[slot]!,
      lastSeen: this.lastSeen[slot]!,
      moves: this.moves[slot]!,
      hits: this.hits[slot]!,
    };
    const port = this.portAt(slot);
    if (port !== undefined) entry.port = port;
    const host = this.hostAt(slot);
    if (host !== undefined) entry.host = host;
    const seq = this.seqAt(slot);
    if (seq !== undefined) entry.seq = seq;
    const stored = this.storedSeenAt(slot);
    if (stored !== undefined) entry.storedSeen = stored;
    return entry;
  }

  /** Every slot (or those from `only`), with `cursor` moved to it at each step. */
  protected *scanWith<C extends { slot: number }>(cursor: C, only?: BindingSource): Generator<C> {
    const code = only === undefined ? -1 : SOURCE_CODE[only];
    for (let slot = 0; slot < this.count; slot++) {
      if (code >= 0 && this.source[slot] !== code) continue;
      cursor.slot = slot;
      yield cursor;
    }
  }

  /** Makes room for `bindings` in all, so that a bulk import grows the columns once. */
  reserve(bindings: number): void {
    while (this.slots < bindings) this.growSlots();
    while (2 * bindings > this.index.length) this.growIndex();
  }

  /** A new slot at the end, its key to be written and then placed. */
  protected newSlot(): number {
    if (this.count === this.slots) this.growSlots();
    if (2 * (this.count + 1) > this.index.length) this.growIndex();
    return this.count++;
  }

  protected place(slot: number): void {
    const mask = this.index.length - 1;
    let at = this.homeOfSlot(slot);
    while (this.index[at] !== 0) at = (at + 1) & mask;
    this.index[at] = slot + 1;
  }

  /** The index position that holds `slot`. */
  private positionOfSlot(slot: number): number {
    const mask = this.index.length - 1;
    let at = this.homeOfSlot(slot);
    while (this.index[at] !== slot + 1) at = (at + 1) & mask;
    return at;
  }

  /** Removes the binding in `slot`: out of the index, and the last slot moved into its place. */
  protected removeSlot(slot: number): void {
    this.unindex(this.positionOfSlot(slot));
    const last = --this.count;
    if (slot !== last) {
      const at = this.positionOfSlot(last);
      this.copySlot(last, slot);
      this.index[at] = slot + 1;
    }
  }

  /** Backward-shift removal: later members of the probe run move up so no lookup stops early. */
  private unindex(hole: number): void {
    const mask = this.index.length - 1;
    let at = hole;
    for (;;) {
      at = (at + 1) & mask;
      const slot = this.index[at]! - 1;
      if (slot < 0) break;
      const home = this.homeOfSlot(slot);
      // The entry at `at` may fill the hole if its home is not in (hole, at], cyclically.
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        this.index[hole] = slot + 1;
        hole = at;
      }
    }
    this.index[hole] = 0;
  }

  private copySlot(from: number, to: number): void {
    this.copyKey(from, to);
    this.macHigh[to] = this.macHigh[from]!;
    this.macLow[to] = this.macLow[from]!;
    this.source[to] = this.source[from]!;
    this.port[to] = this.port[from]!;
    this.host[to] = this.host[from]!;
    this.moves[to] = this.moves[from]!;
    this.seq[to] = this.seq[from]!;
    this.firstSeen[to] = this.firstSeen[from]!;
    this.lastSeen[to] = this.lastSeen[from]!;
    this.storedSeen[to] = this.storedSeen[from]!;
    this.hits[to] = this.hits[from]!;
  }

  private growSlots(): void {
    const slots = Math.max(INITIAL_SLOTS, this.slots * 2);
    this.growKeys(slots);
    this.macHigh = grown(this.macHigh, slots);
    this.macLow = grown(this.macLow, slots);
    this.source = grown(this.source, slots);
    this.port = grown(this.port, slots);
    this.host = grown(this.host, slots);
    this.moves = grown(this.moves, slots);
    this.seq = grown(this.seq, slots);
    this.firstSeen = grown(this.firstSeen, slots);
    this.lastSeen = grown(this.lastSeen, slots);
    this.storedSeen = grown(this.storedSeen, slots);
    this.hits = grown(this.hits, slots);
    this.slots = slots;
  }

  private growIndex(): void {
    this.index = new Int32Array(this.index.length * 2);
    this.indexShift--;
    for (let slot = 0; slot < this.count; slot++) this.place(slot);
  }
}

/** A copy of `old` in a column of `slots` rows. */
function grown<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(old: T, slots: number): T {
  const next = new (old.constructor as new (n: number) => T)(slots);
  next.set(old as never);
  return next;
}

/** The IPv4 bindings, keyed by (vlan, ip). */
export class CompactEntries extends EntryColumns {
  private ip = new Uint32Array(0);
  private vlan = new Uint16Array(0);

  /** The slot of (vlan, ip), or -1. */
  slotOf(vlan: number, ip: number): number {
    const mask = this.index.length - 1;
    for (let at = this.home(vlan, ip); ; at = (at + 1) & mask) {
      const slot = this.index[at]! - 1;
      if (slot < 0) return -1;
      if (this.ip[slot] === ip && this.vlan[slot] === vlan) return slot;
    }
  }

  has(vlan: number, ip: number): boolean {
    return this.slotOf(vlan, ip) >= 0;
  }

  /** A snapshot the caller owns (changes to it do not reach the table). */
  get(vlan: number, ip: number): Entry | undefined {
    const slot = this.slotOf(vlan, ip);
    return slot < 0 ? undefined : this.read(slot);
  }

  /** Stores `entry` for (vlan, ip), adding the binding if it is new. Returns the slot. */
  set(vlan: number, ip: number, entry: Entry): number {
    let slot = this.slotOf(vlan, ip);
    if (slot < 0) slot = this.add(vlan, ip);
    this.writeValues(slot, entry);
    return slot;
  }

  /**
   * Records a local write of (vlan, ip) -> `mac` from `source`, with no port and no fabric
   * origin, as BindingTable.write() records one: a new binding starts at seq 1; a new MAC, or
   * taking over another host's binding, raises seq; a new MAC forgets the stored last-seen.
   */
  putLocal(vlan: number, ip: number, mac: number, source: BindingSource, now: number): void {
    let slot = this.slotOf(vlan, ip);
    if (slot < 0) {
      slot = this.add(vlan, ip);
      this.port[slot] = 0;
      this.seq[slot] = 1;
      this.firstSeen[slot] = now;
      this.storedSeen[slot] = NaN;
      this.moves[slot] = 0;
      this.hits[slot] = 0;
    } else {
      const seq = Number.isNaN(this.seq[slot]!) ? 0 : this.seq[slot]!;
      const newMac = this.macAt(slot) !== mac;
      this.seq[slot] = newMac || this.host[slot] !== 0 ? seq + 1 : seq;
      if (newMac) this.storedSeen[slot] = NaN;
    }
    this.macHigh[slot] = Math.floor(mac / TWO32);
    this.macLow[slot] = mac % TWO32;
    this.source[slot] = SOURCE_CODE[source];
    this.host[slot] = 0;
    this.lastSeen[slot] = now;
  }

  /** Removes (vlan, ip); false if it was not there. */
  delete(vlan: number, ip: number): boolean {
    const slot = this.slotOf(vlan, ip);
    if (slot < 0) return false;
    this.removeSlot(slot);
    return true;
  }

  keyAt(slot: number): number {
    return this.vlan[slot]! * TWO32 + this.ip[slot]!;
  }
  vlanAt(slot: number): number {
    return this.vlan[slot]!;
  }
  ipAt(slot: number): number {
    return this.ip[slot]!;
  }

  /**
   * Every binding (or those from `only`), in slot order, through one cursor that moves on at each step: read what you
   * need before the next step, and change the table only after the scan.
   */
  scan(only?: BindingSource): Generator<EntryCursor> {
    return this.scanWith(new EntryCursor(this), only);
  }

  /** Every key, unordered, for sorting. */
  keys(): Float64Array {
    const keys = new Float64Array(this.count);
    for (let slot = 0; slot < this.count; slot++) keys[slot] = this.vlan[slot]! * TWO32 + this.ip[slot]!;
    return keys;
  }

  /** Fibonacci hashing: the top bits of the product spread consecutive addresses evenly. */
  private home(vlan: number, ip: number): number {
    return Math.imul(ip ^ Math.imul(vlan, 0x85ebca6b), 0x9e3779b1) >>> this.indexShift;
  }

  protected homeOfSlot(slot: number): number {
    return this.home(this.vlan[slot]!, this.ip[slot]!);
  }

  private add(vlan: number, ip: number): number {
    const slot = this.newSlot();
    this.ip[slot] = ip;
    this.vlan[slot] = vlan;
    this.place(slot);
    return slot;
  }

  protected copyKey(from: number, to: number): void {
    this.ip[to] = this.ip[from]!;
    this.vlan[to] = this.vlan[from]!;
  }

  protected growKeys(slots: number): void {
    this.ip = grown(this.ip, slots);
    this.vlan = grown(this.vlan, slots);
  }
}

/** A scan's position and the value columns at it, whatever the family. */
abstract class ValueCursor<E extends EntryColumns> {
  slot = 0;
  constructor(protected readonly entries: E) {}
  get mac(): number {
    return this.entries.macAt(this.slot);
  }
  get source(): BindingSource {
    return this.entries.sourceAt(this.slot);
  }
  get port(): string | undefined {
    return this.entries.portAt(this.slot);
  }
  get host(): string | undefined {
    return this.entries.hostAt(this.slot);
  }
  get seq(): number | undefined {
    return this.entries.seqAt(this.slot);
  }
  get lastSeen(): number {
    return this.entries.lastSeenAt(this.slot);
  }
}

/** One binding of a scan; see CompactEntries.scan. */
export class EntryCursor extends ValueCursor<CompactEntries> {
  get key(): number {
    return this.entries.keyAt(this.slot);
  }
  get vlan(): number {
    return this.entries.vlanAt(this.slot);
  }
  get ip(): number {
    return this.entries.ipAt(this.slot);
  }
}

/**
 * The IPv6 bindings, keyed by (vlan, address): the address in four Uint32 columns, its 32-bit
 * words most significant first. Lookups take the address as its 16 bytes (network order) or as
 * its key (binding_key.ts).
 */
export class CompactEntries6 extends EntryColumns {
  private a0 = new Uint32Array(0);
  private a1 = new Uint32Array(0);
  private a2 = new Uint32Array(0);
  private a3 = new Uint32Array(0);
  private vlan = new Uint16Array(0);
  private router = new Uint8Array(0);

  /** The slot of (vlan, ip[at, at + 16)), or -1. */
  slotOf(vlan: number, ip: Uint8Array, at = 0): number {
    return this.slotOfWords(vlan, wordAt(ip, at), wordAt(ip, at + 4), wordAt(ip, at + 8), wordAt(ip, at + 12));
  }

  /** The slot of an IPv6 key, or -1. */
  slotOfKey(key: bigint): number {
    const [w0, w1, w2, w3] = wordsOfKey6(key);
    return this.slotOfWords(Number(key >> 128n), w0, w1, w2, w3);
  }

  private slotOfWords(vlan: number, w0: number, w1: number, w2: number, w3: number): number {
    const mask = this.index.length - 1;
    for (let at = this.home(vlan, w0, w1, w2, w3); ; at = (at + 1) & mask) {
      const slot = this.index[at]! - 1;
      if (slot < 0) return -1;
      if (this.a3[slot] === w3 && this.a2[slot] === w2 && this.a1[slot] === w1 && this.a0[slot] === w0 && this.vlan[slot] === vlan) return slot;
    }
  }

  has(vlan: number, ip: Uint8Array): boolean {
    return this.slotOf(vlan, ip) >= 0;
  }

  /** A snapshot the caller owns (changes to it do not reach the table). */
  get(vlan: number, ip: Uint8Array): Entry | undefined {
    const slot = this.slotOf(vlan, ip);
    return slot < 0 ? undefined : this.read(slot);
  }

  getKey(key: bigint): Entry | undefined {
    const slot = this.slotOfKey(key);
    return slot < 0 ? undefined : this.read(slot);
  }

  /** Stores `entry` (its router flag included) for (vlan, ip), adding the binding if it is new. Returns the slot. */
  set(vlan: number, ip: Uint8Array, entry: Entry): number {
    return this.setWords(vlan, wordAt(ip, 0), wordAt(ip, 4), wordAt(ip, 8), wordAt(ip, 12), entry);
  }

  setKey(key: bigint, entry: Entry): number {
    const [w0, w1, w2, w3] = wordsOfKey6(key);
    return this.setWords(Number(key >> 128n), w0, w1, w2, w3, entry);
  }

  private setWords(vlan: number, w0: number, w1: number, w2: number, w3: number, entry: Entry): number {
    let slot = this.slotOfWords(vlan, w0, w1, w2, w3);
    if (slot < 0) {
      slot = this.newSlot();
      this.a0[slot] = w0;
      this.a1[slot] = w1;
      this.a2[slot] = w2;
      this.a3[slot] = w3;
      this.vlan[slot] = vlan;
      this.place(slot);
    }
    this.writeValues(slot, entry);
    this.router[slot] = entry.router ? 1 : 0;
    return slot;
  }

  /** Removes (vlan, ip); false if it was not there. */
  delete(vlan: number, ip: Uint8Array): boolean {
    return this.deleteSlot(this.slotOf(vlan, ip));
  }

  deleteKey(key: bigint): boolean {
    return this.deleteSlot(this.slotOfKey(key));
  }

  private deleteSlot(slot: number): boolean {
    if (slot < 0) return false;
    this.removeSlot(slot);
    return true;
  }

  keyAt(slot: number): bigint {
    return key6OfWords(this.vlan[slot]!, this.a0[slot]!, this.a1[slot]!, this.a2[slot]!, this.a3[slot]!);
  }
  vlanAt(slot: number): number {
    return this.vlan[slot]!;
  }
  /** The address's 16 bytes, in a new array. */
  ipAt(slot: number): Uint8Array {
    const out = new Uint8Array(16);
    this.copyIp(slot, out, 0);
    return out;
  }
  copyIp(slot: number, out: Uint8Array, at: number): void {
    putWord(out, at, this.a0[slot]!);
    putWord(out, at + 4, this.a1[slot]!);
    putWord(out, at + 8, this.a2[slot]!);
    putWord(out, at + 12, this.a3[slot]!);
  }
  routerAt(slot: number): boolean {
    return this.router[slot] === 1;
  }
  inPrefix(slot: number, prefix: Prefix6): boolean {
    this.copyIp(slot, scratch6, 0);
    return inPrefix6(scratch6, 0, prefix);
  }

  override read(slot: number): Entry {
    const entry = super.read(slot);
    if (this.router[slot] === 1) entry.router = true;
    return entry;
  }

  /** As CompactEntries.scan, for the IPv6 bindings. */
  scan(only?: BindingSource): Generator<Entry6Cursor> {
    return this.scanWith(new Entry6Cursor(this), only);
  }

  /** Every key, unordered, for sorting. */
  keys(): bigint[] {
    const keys = new Array<bigint>(this.count);
    for (let slot = 0; slot < this.count; slot++) keys[slot] = this.keyAt(slot);
    return keys;
  }

  /** The words mixed (multiply-xorshift), then Fibonacci hashing, as for IPv4. */
  private home(vlan: number, w0: number, w1: number, w2: number, w3: number): number {
    let h = Math.imul(w0 ^ Math.imul(vlan, 0x85ebca6b), 0xcc9e2d51);
    h = Math.imul(h ^ (h >>> 15) ^ w1, 0x1b873593);
    h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ w3, 0x27d4eb2f);
    return Math.imul(h ^ (h >>> 15), 0x9e3779b1) >>> this.indexShift;
  }

  protected homeOfSlot(slot: number): number {
    return this.home(this.vlan[slot]!, this.a0[slot]!, this.a1[slot]!, this.a2[slot]!, this.a3[slot]!);
  }

  protected copyKey(from: number, to: number): void {
    this.a0[to] = this.a0[from]!;
    this.a1[to] = this.a1[from]!;
    this.a2[to] = this.a2[from]!;
    this.a3[to] = this.a3[from]!;
    this.vlan[to] = this.vlan[from]!;
    this.router[to] = this.router[from]!;
  }

  protected growKeys(slots: number): void {
    this.a0 = grown(this.a0, slots);
    this.a1 = grown(this.a1, slots);
    this.a2 = grown(this.a2, slots);
    this.a3 = grown(this.a3, slots);
    this.vlan = grown(this.vlan, slots);
    this.router = grown(this.router, slots);
  }
}

const scratch6 = new Uint8Array(16);

/** One IPv6 binding of a scan; see CompactEntries6.scan. */
export class Entry6Cursor extends ValueCursor<CompactEntries6> {
  get key(): bigint {
    return this.entries.keyAt(this.slot);
  }
  get vlan(): number {
    return this.entries.vlanAt(this.slot);
  }
  /** A new array at each read. */
  get ip(): Uint8Array {
    return this.entries.ipAt(this.slot);
  }
  get router(): boolean {
    return this.entries.routerAt(this.slot);
  }
}
