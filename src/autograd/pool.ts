// Buffer pool: a training step creates the same activation and gradient
// buffers every time, so disposed buffers go back to a free list keyed by
// length and the next step takes them out again instead of allocating tens of
// MB anew (which would churn the garbage collector and page in fresh memory).
// Reused buffers are NOT zeroed: every kernel overwrites its outputs.

class TypedPool<T extends Float32Array | Int32Array> {
  private free = new Map<number, T[]>();
  private pooledBytes = 0;

  constructor(private make: (len: number) => T, private maxBytes: number) {}

  acquire(len: number): T {
    const list = this.free.get(len);
    const buf = list?.pop();
    if (buf) {
      this.pooledBytes -= buf.byteLength;
      return buf;
    }
    return this.make(len);
  }

  release(buf: T): void {
    if (buf.length === 0) return;
    // Past the cap we let the GC have it: a pool must not become a leak.
    if (this.pooledBytes + buf.byteLength > this.maxBytes) return;
    let list = this.free.get(buf.length);
    if (!list) { list = []; this.free.set(buf.length, list); }
    list.push(buf);
    this.pooledBytes += buf.byteLength;
  }

  /** Bytes currently held in free lists. */
  get bytes(): number { return this.pooledBytes; }

  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}

const GiB = 1024 ** 3;
export const floatPool = new TypedPool<Float32Array>((n) => new Float32Array(n), 4 * GiB);
export const intPool = new TypedPool<Int32Array>((n) => new Int32Array(n), 1 * GiB);
