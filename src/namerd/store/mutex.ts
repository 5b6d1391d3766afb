/**
 * Runs async tasks one at a time per key, in arrival order; tasks of different keys run
 * concurrently. The file store uses it so that a namespace's read-compare-write is atomic.
 *
 * @example
 * ```ts
 * const locks = new KeyedMutex()
 * await locks.run('default', async () => { const v = await read(); await write(v + 1) })
 * ```
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>()

  /** Tasks queued or running, across all keys. */
  get busyKeys(): number {
    return this.tails.size
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    const result = prev.then(task, task)
    const tail = result.then(
      () => {},
      () => {},
    )
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()])
  }
}
