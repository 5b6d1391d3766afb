import { type FSWatcher, type Stats, statSync, watch } from 'node:fs'
import { open, readdir } from 'node:fs/promises'
import { join, resolve as resolvePath } from 'node:path'
import { Activity, type ActivityState } from '../core/activity.js'
import { type Cancel, type Scheduler, systemScheduler } from '../core/clock.js'
import { SwitchboardError } from '../core/errors.js'
import { reportObserverError, Var } from '../core/var.js'
import { Addr } from '../naming/addr.js'
import { Address } from '../naming/address.js'
import { Name } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'

/** Options of `fsNamer` (linkerd's `io.l5d.fs`). */
export interface FsNamerOptions {
  /** The directory of service files. */
  readonly rootDir: string
  /** The namer's prefix without `/#` (default `io.l5d.fs`): ids are `/#/<prefix>/<file>`. */
  readonly prefix?: string | undefined
  readonly scheduler?: Scheduler | undefined
  readonly stats?: StatsReceiver | undefined
  /** Watch the directory tree for changes (default true). */
  readonly watch?: boolean | undefined
  /** A `stat` poll as a backstop for dropped file-system events (default 5000 ms; 0 disables). */
  readonly pollIntervalMs?: number | undefined
  /** Called with every service file that cannot be read or has a malformed line. */
  readonly onError?: ((error: FsNamerFileError) => void) | undefined
}

/** An `fsNamer`: a namer that can list its names and be closed. */
export interface FsNamer extends Namer {
  /** `/#/<prefix>`. */
  readonly prefix: Path
  /** The ids of the service files directly in `rootDir` (`/#/<prefix>/<file>`), sorted; live. */
  names(): Activity<readonly string[]>
  /** Re-reads whatever changed now, as a file-system event would. */
  refresh(): void
  /** Stops watching. */
  close(): void
}

/**
 * A service file that cannot be used: unreadable, too big, or with a malformed line (named by
 * file and line number). The namer keeps the file's last good addresses.
 *
 * @example
 * ```ts
 * fsNamer({ rootDir: 'disco', onError: (e) => console.error(e.message) })
 * // disco/users:3: malformed address: "127.0.0.1 http" (port 1-65535 expected)
 * ```
 */
export class FsNamerFileError extends SwitchboardError {
  readonly file: string
  readonly line: number | undefined
  constructor(file: string, line: number | undefined, detail: string) {
    super('FsNamerFileError', `${file}${line === undefined ? '' : `:${line}`}: ${detail}`)
    this.file = file
    this.line = line
  }
}

/** linkerd's limit on a service file. */
export const MAX_SERVICE_FILE_BYTES = 500 * 1024

/**
 * Parses a service file: one `<host> <port>` or `<host> <port> * <weight>` per line, `#` starts a
 * comment, blank lines are ignored. Returns the addresses or the first malformed line.
 *
 * @example
 * ```ts
 * parseServiceFile('users', '127.0.0.1 8080\n127.0.0.1 8081 * 0.5 # canary\n')
 * // [Address(127.0.0.1:8080), Address(127.0.0.1:8081, {endpoint_addr_weight: 0.5})]
 * ```
 */
export function parseServiceFile(file: string, text: string): Address[] | FsNamerFileError {
  const out: Address[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    const hash = raw.indexOf('#')
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim()
    if (line === '') continue
    const bad = (why: string) =>
      new FsNamerFileError(file, i + 1, `malformed address: ${JSON.stringify(line)} (${why})`)
    const words = line.split(/\s+/)
    if (words.length !== 2 && !(words.length === 4 && words[2] === '*'))
      return bad('expected "<host> <port>" or "<host> <port> * <weight>"')
    const [host, portText, , weightText] = words as [string, string, string?, string?]
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      return bad('port 1-65535 expected')
    let metadata: Record<string, unknown> = {}
    if (weightText !== undefined) {
      const w = Number(weightText)
      if (!/^[0-9.eE+-]+$/.test(weightText) || !Number.isFinite(w) || w < 0)
        return bad('weight >= 0 expected')
      metadata = { [Address.WeightKey]: w }
    }
    out.push(Address.inet(host, Number(portText), metadata))
  }
  return out
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === 'object' && error !== null && codes.includes((error as { code?: string }).code ?? '')
  )
}

/**
 * linkerd's `io.l5d.fs` namer: a directory of service files. `/#/io.l5d.fs/users` binds to the
 * addresses in `<rootDir>/users`; a path descends through subdirectories until it names a file,
 * and what follows is the residual path. A missing file is `Neg`. Files are re-read when they
 * change (directory watch plus a `stat` poll); until a file is first read its addr is pending.
 *
 * Unlike linkerd, a malformed line does not fail the file's addr once it had a good value: the
 * error is reported (file and line) and the last good addresses are kept, so a typo does not take a
 * service down. A file that never parsed fails its addr with the error.
 *
 * @example
 * ```ts
 * const fs = fsNamer({ rootDir: 'examples/disco' })
 * const namers = NamerRegistry.create().mount(fs.prefix, fs)
 * defaultInterpreter({ namers }).bind(Dtab.read('/svc=>/#/io.l5d.fs'), Path.read('/svc/users'))
 * ```
 */
export function fsNamer(options: FsNamerOptions): FsNamer {
  const rootDir = resolvePath(options.rootDir)
  const prefixLabel = options.prefix ?? 'io.l5d.fs'
  const prefix = Path.of(
    '#',
    ...Path.read(prefixLabel.startsWith('/') ? prefixLabel : `/${prefixLabel}`).segments,
  )
  const scheduler = options.scheduler ?? systemScheduler
  const stats = options.stats ?? nullStats
  const pollIntervalMs = options.pollIntervalMs ?? 5000
  const lookups = stats.counter('lookups')
  const fileErrors = stats.counter('file_errors')

  // Everything re-checks itself on a tick: a change anywhere under rootDir, or the poll.
  const tickers = new Set<() => void>()
  const tick = () => {
    for (const f of [...tickers]) {
      try {
        f()
      } catch (error) {
        reportObserverError(error)
      }
    }
  }
  let watcher: FSWatcher | undefined
  let pendingTick: Cancel | undefined
  let cancelPoll: Cancel | undefined
  let closed = false
  const scheduleTick = () => {
    if (closed || pendingTick) return
    pendingTick = scheduler.setTimeout(() => {
      pendingTick = undefined
      tick()
    }, 10)
  }
  const startWatching = () => {
    if (closed || watcher || !(options.watch ?? true)) return
    try {
      watcher = watch(rootDir, { persistent: false, recursive: true }, scheduleTick)
      watcher.on('error', () => {
        watcher?.close()
        watcher = undefined
      })
    } catch {
      watcher = undefined
    }
  }
  const poll = () => {
    if (closed || pollIntervalMs <= 0) return
    cancelPoll = scheduler.setTimeout(() => {
      startWatching()
      tick()
      poll()
    }, pollIntervalMs)
  }
  const onTick = (f: () => void) => {
    if (tickers.size === 0) {
      startWatching()
      poll()
    }
    tickers.add(f)
    return () => {
      tickers.delete(f)
      if (tickers.size === 0) {
        watcher?.close()
        watcher = undefined
        pendingTick?.()
        pendingTick = undefined
        cancelPoll?.()
        cancelPoll = undefined
      }
    }
  }

  // One addr var per service file, shared by every name that binds to it.
  const addrs = new Map<string, Var<Addr>>()
  const addrOf = (file: string): Var<Addr> => {
    let v = addrs.get(file)
    if (v) return v
    v = Var.async<Addr>(Addr.Pending, (update) => {
      let current: Addr = Addr.Pending
      let signature: string | undefined
      let reading = false
      let again = false
      let stopped = false
      const read = async () => {
        if (reading) {
          again = true
          return
        }
        reading = true
        try {
          do {
            again = false
            let next: Addr | undefined
            try {
              const fh = await open(file, 'r')
              try {
                const st = await fh.stat()
                const sig = `${st.ino}:${st.size}:${st.mtimeMs}`
                if (sig === signature) continue
                signature = sig
                if (st.size > MAX_SERVICE_FILE_BYTES) {
                  throw new FsNamerFileError(
                    file,
                    undefined,
                    `file is ${st.size} bytes, more than ${MAX_SERVICE_FILE_BYTES}`,
                  )
                }
                const parsed = parseServiceFile(file, await fh.readFile('utf8'))
                if (parsed instanceof FsNamerFileError) throw parsed
                next = Addr.bound(parsed)
              } finally {
                await fh.close()
              }
            } catch (error) {
              if (isErrno(error, 'ENOENT', 'ENOTDIR')) {
                signature = undefined
                next = Addr.Neg
              } else {
                const e =
                  error instanceof FsNamerFileError
                    ? error
                    : new FsNamerFileError(file, undefined, String(error))
                fileErrors.incr()
                options.onError?.(e)
                next = current.kind === 'bound' ? current : Addr.failed(e)
              }
            }
            if (!stopped && next !== undefined && !Addr.equals(next, current)) {
              current = next
              update(next)
            }
          } while (again && !stopped)
        } finally {
          reading = false
        }
      }
      void read()
      const off = onTick(() => void read())
      return () => {
        stopped = true
        off()
      }
    })
    addrs.set(file, v)
    return v
  }

  /**
   * Walks the segments down to the first regular file. Synchronous on purpose: a few `stat`s of a
   * local directory, so that a lookup has its answer at once (as linkerd's in-memory directory
   * tree does) and a union of several files binds complete, never one file at a time.
   */
  const resolveTree = (path: Path): NameTree<Name> => {
    const segs = path.segments
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!
      // A label may be `..` or hold an escaped `/`: never leave rootDir.
      if (seg === '.' || seg === '..' || seg.includes('/') || seg.includes('\\') || seg.includes('\u0000'))
        return NameTree.Neg
      const file = join(rootDir, ...segs.slice(0, i + 1))
      let st: Stats
      try {
        st = statSync(file)
      } catch (error) {
        if (isErrno(error, 'ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'EINVAL')) return NameTree.Neg
        throw error
      }
      if (st.isFile()) {
        const id = prefix.concat(Path.of(...segs.slice(0, i + 1)))
        return NameTree.leaf(Name.bound(id, addrOf(file), path.drop(i + 1)))
      }
      if (!st.isDirectory()) return NameTree.Neg
    }
    return NameTree.Neg
  }

  const treeKey = (t: NameTree<Name>) =>
    t.kind === 'leaf' ? `leaf:${t.value.show()}:${(t.value as { path?: Path }).path?.show()}` : t.kind

  return {
    prefix,
    lookup(path) {
      lookups.incr()
      return Activity.of(
        Var.async<ActivityState<NameTree<Name>>>({ kind: 'pending' }, (update) => {
          let last: string | undefined
          let stopped = false
          const check = () => {
            if (stopped) return
            try {
              const tree = resolveTree(path)
              const key = treeKey(tree)
              if (key === last) return
              last = key
              update({ kind: 'ok', value: tree })
            } catch (error) {
              last = undefined
              update({ kind: 'failed', error })
            }
          }
          check()
          const off = onTick(check)
          return () => {
            stopped = true
            off()
          }
        }),
      )
    },
    names() {
      return Activity.of(
        Var.async<ActivityState<readonly string[]>>({ kind: 'pending' }, (update) => {
          let last: string | undefined
          let stopped = false
          const check = async () => {
            try {
              const entries = await readdir(rootDir, { withFileTypes: true })
              const names = entries
                .filter((e) => e.isFile() && Path.parse(`/${e.name}`)._tag === 'Right')
                .map((e) => prefix.concat(Path.of(e.name)).show())
                .sort()
              const key = names.join('\n')
              if (stopped || key === last) return
              last = key
              update({ kind: 'ok', value: names })
            } catch (error) {
              if (!stopped) update({ kind: 'failed', error })
            }
          }
          void check()
          const off = onTick(() => void check())
          return () => {
            stopped = true
            off()
          }
        }),
      )
    },
    refresh: tick,
    close() {
      closed = true
      tickers.clear()
      watcher?.close()
      watcher = undefined
      pendingTick?.()
      cancelPoll?.()
    },
  }
}
