/**
 * A map that holds at most `capacity` entries and forgets the least recently
 * used first. A `Map` iterates in insertion order, so re-inserting on every use
 * keeps the oldest entry first: eviction is `keys().next()`, O(1), with no
 * list of its own to keep. For state keyed by request content (fingerprints),
 * where an attacker chooses how many distinct keys there are.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`an LRU capacity is a positive integer, not ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get limit(): number {
    return this.capacity;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value, leaving its place in the order alone. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Stores `value` as the most recently used, evicting the least recently used beyond the capacity. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.trim();
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** A new capacity (from a changed config): entries beyond it go at once, oldest first. */
  resize(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`an LRU capacity is a positive integer, not ${capacity}`);
    this.capacity = capacity;
    this.trim();
  }

  private trim(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return;
      this.entries.delete(oldest.value);
    }
  }
}
