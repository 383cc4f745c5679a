/** A key waiting for its time to join the queue. */
export interface DelayedEntry<K> {
  readonly key: K;
  readyAt: number;
  /** Insertion order: keys due at the same time join the queue in the order they were added. */
  readonly seq: number;
  index: number;
}

/**
 * A binary min-heap of delayed keys ordered by ready time, with at most one entry per key
 * (the `waitForPriorityQueue` + `knownEntries` pair of client-go's delaying queue).
 * @internal
 */
export class DelayHeap<K> {
  readonly #heap: DelayedEntry<K>[] = [];
  readonly #byKey = new Map<K, DelayedEntry<K>>();
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  peek(): DelayedEntry<K> | undefined {
    return this.#heap[0];
  }

  /**
   * Schedules `key` at `readyAt`. If it is already scheduled, the earlier of the two
   * times wins: a later request never postpones a key that is due sooner.
   */
  schedule(key: K, readyAt: number): void {
    const existing = this.#byKey.get(key);
    if (existing) {
      if (readyAt < existing.readyAt) {
        existing.readyAt = readyAt;
        this.#up(existing.index);
      }
      return;
    }
    const entry: DelayedEntry<K> = { key, readyAt, seq: this.#seq++, index: this.#heap.length };
    this.#heap.push(entry);
    this.#byKey.set(key, entry);
    this.#up(entry.index);
  }

  /** Removes and returns the entry due first. */
  pop(): DelayedEntry<K> | undefined {
    const top = this.#heap[0];
    if (!top) return undefined;
    const last = this.#heap.pop()!;
    if (last !== top) {
      this.#heap[0] = last;
      last.index = 0;
      this.#down(0);
    }
    this.#byKey.delete(top.key);
    return top;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#byKey.clear();
  }

  #less(a: DelayedEntry<K>, b: DelayedEntry<K>): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    this.#heap[i] = b;
    this.#heap[j] = a;
    a.index = j;
    b.index = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(this.#heap[i]!, this.#heap[parent]!)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.#less(this.#heap[left]!, this.#heap[smallest]!)) smallest = left;
      if (right < n && this.#less(this.#heap[right]!, this.#heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}

/**
 * A FIFO with O(1) push and shift (Array#shift is O(n) on large arrays).
 * @internal
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    // Drop the reference so the key can be collected while the slot awaits compaction.
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
