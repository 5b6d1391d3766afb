import { createHash } from 'node:crypto'
import { type FSWatcher, watch } from 'node:fs'
import { link, mkdir, open, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { isLeft } from 'fp-ts/lib/Either.js'
import { Activity, type ActivityState } from '../../core/activity.js'
import { type Cancel, type Scheduler, systemScheduler } from '../../core/clock.js'
import { SwitchboardError } from '../../core/errors.js'
import { reportObserverError, Var } from '../../core/var.js'
import { Dtab } from '../../naming/dtab.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { KeyedMutex } from './mutex.js'
import { checkNamespace, InvalidDtabNamespace, namespaceProblem } from './namespace.js'
import {
  DtabNamespaceDoesNotExist,
  DtabNamespaceExists,
  type DtabStore,
  DtabStoreClosed,
  DtabVersionMismatch,
  VersionedDtab,
} from './store.js'
import { Version } from './version.js'

/** Options of `fileDtabStore`. */
export interface FileDtabStoreOptions {
  /** The directory holding one `<namespace>.dtab` file per namespace; created if missing. */
  readonly dir: string
  /** Debounces change events and runs the backstop poll. */
  readonly scheduler?: Scheduler | undefined
  readonly stats?: StatsReceiver | undefined
  /** Watch the directory for edits made by others (default true). */
  readonly watch?: boolean | undefined
  /**
   * How often to re-check every file as a backstop for file-system events that some platforms
   * drop (default 5000 ms; 0 disables). Unchanged files cost one `stat` each.
   */
  readonly pollIntervalMs?: number | undefined
  /** Called with every file that cannot be read or parsed (the store keeps its last good dtab). */
  readonly onError?: ((error: DtabFileInvalid) => void) | undefined
}

/** The file store: a `DtabStore` that can also be told to re-read its directory now. */
export interface FileDtabStore extends DtabStore {
  /** The directory the store keeps its files in. */
  readonly dir: string
  /** Re-reads every file that changed on disk, as a file-system event would. */
  rescan(): Promise<void>
}

/**
 * A namespace file that cannot be read or parsed: a broken external edit. The store keeps serving
 * the last good dtab of that namespace (or fails its observation if it never had one), and accepts
 * only unconditional writes over it.
 *
 * @example
 * ```ts
 * fileDtabStore({ dir, onError: (e) => console.error(e.message) })
 * // dtab file /data/default.dtab is invalid: '=>' expected but end of input found at '/a[]'
 * ```
 */
export class DtabFileInvalid extends SwitchboardError {
  readonly file: string
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super('DtabFileInvalid', `dtab file ${file} is invalid: ${detail}`, options)
    this.file = file
  }
}

const SUFFIX = '.dtab'
const TMP_SUFFIX = '.tmp'
const MAX_FILE_BYTES = 4 * 1024 * 1024
const MAX_FILE_NAME_BYTES = 255
const UNREADABLE = 'unreadable'

/**
 * The file name of a namespace: itself, with every character outside `[A-Za-z0-9._-]` (and a
 * leading `.`) percent-encoded as UTF-8, plus `.dtab`.
 *
 * @example
 * ```ts
 * namespaceFileName('default')   // 'default.dtab'
 * namespaceFileName('a b')       // 'a%20b.dtab'
 * ```
 */
export function namespaceFileName(namespace: string): string {
  let out = ''
  for (const ch of namespace) {
    // A leading `.` is encoded too: dot files are the store's temporary files.
    if (/^[A-Za-z0-9._-]$/.test(ch) && !(ch === '.' && out === '')) out += ch
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out + SUFFIX
}

/** The namespace of a file name, or `undefined` when the name is not one `namespaceFileName` makes. */
export function namespaceOfFileName(file: string): string | undefined {
  if (!file.endsWith(SUFFIX) || file.startsWith('.')) return undefined
  let ns: string
  try {
    ns = decodeURIComponent(file.slice(0, -SUFFIX.length))
  } catch {
    return undefined
  }
  if (namespaceProblem(ns) !== undefined || namespaceFileName(ns) !== file) return undefined
  return ns
}

/** The text of a namespace file: a version comment, then one dentry per line. */
export function renderDtabFile(counter: bigint, dtab: Dtab): string {
  const lines = dtab.entries.map((d) => `${d.show()};\n`).join('')
  return `# version ${counter}\n${lines}`
}

const HEADER = /^# version (\d{1,19})[ \t]*(?:\r?\n|$)/

interface Parsed {
  readonly counter: bigint
  /** The version of exactly these bytes on disk, good or not. */
  readonly diskVersion: Version
  readonly dtab: Dtab | undefined
  readonly error: DtabFileInvalid | undefined
}

function fingerprint(text: string): Uint8Array {
  return createHash('sha256').update(text).digest().subarray(0, 8)
}

function versionOf(counter: bigint, text: string): Version {
  const out = new Uint8Array(16)
  out.set(Version.counter(counter), 0)
  out.set(fingerprint(text), 8)
  return out
}

function parseFile(file: string, text: string): Parsed {
  const header = HEADER.exec(text)
  const counter = header ? BigInt(header[1]!) : 0n
  const r = Dtab.parse(text)
  if (isLeft(r)) {
    return {
      counter,
      diskVersion: versionOf(counter, `\u0000${text}`),
      dtab: undefined,
      error: new DtabFileInvalid(file, r.left.message, { cause: r.left }),
    }
  }
  // The version fingerprints the canonical dtab, so an edit that only changes comments or layout
  // is not a new version.
  return { counter, diskVersion: versionOf(counter, r.right.show()), dtab: r.right, error: undefined }
}

interface Entry {
  /** What observers see: the last good dtab, if any. */
  readonly value: VersionedDtab | undefined
  readonly error: DtabFileInvalid | undefined
  readonly counter: bigint
  readonly diskVersion: Version
  /** Identity of the file contents last read (inode, size, mtime), to skip unchanged files. */
  readonly signature: string
}

function signatureOf(s: { ino: number | bigint; size: number | bigint; mtimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === 'object' && error !== null && codes.includes((error as { code?: string }).code ?? '')
  )
}

/**
 * The embedded default `DtabStore`: one directory, one `<namespace>.dtab` file per namespace, in
 * plain dtab syntax with a `# version N` comment on top, so the files can be read, diffed, backed
 * up and edited by hand.
 *
 * Every write goes to a temporary file in the same directory, is `fsync`ed, renamed over the
 * namespace file (a create is a hard link, which fails if the file appeared meanwhile), and the
 * directory is `fsync`ed before the promise resolves: a write that was acknowledged survives a
 * crash, and a crash never leaves a half-written namespace file. A namespace's read-compare-write
 * runs under a per-namespace lock, so conditional updates are atomic within the process (one
 * writer process per directory). Edits made by others are picked up through a directory watch
 * plus a slow `stat` poll; a broken edit is reported and the last good dtab is kept.
 *
 * Versions are 16 bytes: the file's 8-byte `# version` counter, then 8 bytes of a SHA-256 of the
 * canonical dtab, so a hand edit that forgets the counter is still a new version.
 *
 * @example
 * ```ts
 * const store = await fileDtabStore({ dir: '.data/dtabs' })
 * await store.put('default', Dtab.read('/svc=>/#/io.l5d.fs'))
 * // .data/dtabs/default.dtab:
 * // # version 1
 * // /svc=>/#/io.l5d.fs;
 * await store.close()
 * ```
 */
export async function fileDtabStore(options: FileDtabStoreOptions): Promise<FileDtabStore> {
  const dir = options.dir
  const scheduler = options.scheduler ?? systemScheduler
  const stats = options.stats ?? nullStats
  const pollIntervalMs = options.pollIntervalMs ?? 5000
  const parseErrors = stats.counter('parse_errors')
  const externalChanges = stats.counter('external_changes')
  const writes = stats.counter('writes')

  await mkdir(dir, { recursive: true })
  // Temporary files of a write that crashed are garbage: the write was never acknowledged.
  for (const name of await readdir(dir)) {
    if (name.startsWith('.') && name.endsWith(TMP_SUFFIX)) await unlink(join(dir, name)).catch(() => {})
  }

  const entries = new Map<string, Entry>()
  const watchers = new Map<string, Set<(s: ActivityState<VersionedDtab | undefined>) => void>>()
  const locks = new KeyedMutex()
  const names = Var.value<readonly string[]>([])
  let closed = false
  let tmpSeq = 0

  const stateOf = (ns: string): ActivityState<VersionedDtab | undefined> => {
    const e = entries.get(ns)
    if (!e) return { kind: 'ok', value: undefined }
    if (e.value === undefined && e.error !== undefined) return { kind: 'failed', error: e.error }
    return { kind: 'ok', value: e.value }
  }
  const publish = (ns: string) => {
    const fs = watchers.get(ns)
    if (fs) {
      const s = stateOf(ns)
      // One observer's exception must neither skip the others nor fail the write that notified.
      for (const f of [...fs]) {
        if (!fs.has(f)) continue
        try {
          f(s)
        } catch (error) {
          reportObserverError(error)
        }
      }
    }
    const list = [...entries.keys()].sort()
    const prev = names.sample()
    if (list.length !== prev.length || list.some((n, i) => n !== prev[i])) names.update(list)
  }
  const pathOf = (ns: string) => {
    const file = namespaceFileName(ns)
    if (Buffer.byteLength(file) > MAX_FILE_NAME_BYTES)
      throw new InvalidDtabNamespace(ns, 'it is too long for a file name')
    return join(dir, file)
  }

  const syncDir = async () => {
    let fh: Awaited<ReturnType<typeof open>> | undefined
    try {
      fh = await open(dir, 'r')
      await fh.sync()
    } catch (error) {
      // Some platforms cannot open or fsync a directory; the rename is as durable as they allow.
      if (!isErrno(error, 'EISDIR', 'EPERM', 'EINVAL', 'EBADF')) throw error
    } finally {
      await fh?.close()
    }
  }

  /** Brings the entry of `ns` up to date with the disk. Runs under the namespace's lock. */
  const refresh = async (ns: string, external: boolean): Promise<void> => {
    const file = pathOf(ns)
    const prev = entries.get(ns)
    let fh: Awaited<ReturnType<typeof open>> | undefined
    let text: string
    let signature: string
    try {
      fh = await open(file, 'r')
      const st = await fh.stat()
      signature = signatureOf(st)
      if (prev && prev.signature === signature) return
      if (st.size > MAX_FILE_BYTES)
        throw new DtabFileInvalid(file, `it is ${st.size} bytes, more than ${MAX_FILE_BYTES}`)
      text = await fh.readFile('utf8')
    } catch (error) {
      if (isErrno(error, 'ENOENT')) {
        if (prev) {
          entries.delete(ns)
          if (external) externalChanges.incr()
          publish(ns)
        }
        return
      }
      // An unreadable file (permissions, too big) is reported once, not on every poll.
      if (prev?.signature === UNREADABLE) return
      const invalid =
        error instanceof DtabFileInvalid ? error : new DtabFileInvalid(file, String(error), { cause: error })
      parseErrors.incr()
      options.onError?.(invalid)
      entries.set(ns, {
        value: prev?.value,
        error: invalid,
        counter: prev?.counter ?? 0n,
        diskVersion: new Uint8Array(0),
        signature: UNREADABLE,
      })
      publish(ns)
      return
    } finally {
      await fh?.close()
    }
    const parsed = parseFile(file, text)
    if (parsed.error) {
      parseErrors.incr()
      options.onError?.(parsed.error)
    }
    const value: VersionedDtab | undefined = parsed.dtab
      ? { dtab: parsed.dtab, version: parsed.diskVersion }
      : prev?.value
    entries.set(ns, {
      value,
      error: parsed.error,
      counter: parsed.counter,
      diskVersion: parsed.diskVersion,
      signature,
    })
    const changed =
      !prev ||
      !VersionedDtab.equals(prev.value, value) ||
      (prev.error === undefined) !== (parsed.error === undefined)
    if (changed) {
      if (external) externalChanges.incr()
      publish(ns)
    }
  }

  /** Writes a namespace file durably; returns the new entry. Runs under the namespace's lock. */
  const writeFile = async (ns: string, counter: bigint, dtab: Dtab, exclusive: boolean): Promise<void> => {
    const file = pathOf(ns)
    const text = renderDtabFile(counter, dtab)
    const tmp = join(dir, `.${process.pid}.${tmpSeq++}${TMP_SUFFIX}`)
    let signature: string
    const fh = await open(tmp, 'wx', 0o644)
    try {
      await fh.writeFile(text, 'utf8')
      await fh.sync()
      signature = signatureOf(await fh.stat())
    } finally {
      await fh.close()
    }
    try {
      if (exclusive) {
        try {
          await link(tmp, file)
        } catch (error) {
          if (isErrno(error, 'EEXIST')) throw new DtabNamespaceExists(ns)
          if (!isErrno(error, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV')) throw error
          // No hard links here: the lock and the check before already exclude other writers of
          // this process.
          await rename(tmp, file)
        }
      } else {
        await rename(tmp, file)
      }
    } finally {
      await unlink(tmp).catch(() => {})
    }
    await syncDir()
    writes.incr()
    const version = versionOf(counter, dtab.show())
    entries.set(ns, {
      value: { dtab, version },
      error: undefined,
      counter,
      diskVersion: version,
      signature,
    })
    publish(ns)
  }

  const write = (ns: string, f: (current: Entry | undefined) => Promise<void>): Promise<void> => {
    if (closed) return Promise.reject(new DtabStoreClosed())
    try {
      pathOf(checkNamespace(ns))
    } catch (error) {
      return Promise.reject(error)
    }
    return locks.run(ns, async () => {
      if (closed) throw new DtabStoreClosed()
      await refresh(ns, true)
      await f(entries.get(ns))
    })
  }

  const rescan = async (): Promise<void> => {
    if (closed) return
    const found = new Set<string>()
    for (const name of await readdir(dir)) {
      const ns = namespaceOfFileName(name)
      if (ns !== undefined) found.add(ns)
    }
    for (const ns of entries.keys()) found.add(ns)
    await Promise.all(
      [...found].map((ns) => locks.run(ns, () => (closed ? Promise.resolve() : refresh(ns, true)))),
    )
  }

  // Load what is there before answering anything.
  for (const name of await readdir(dir)) {
    const ns = namespaceOfFileName(name)
    if (ns !== undefined) await refresh(ns, false)
  }

  let pendingScan: Cancel | undefined
  const scheduleScan = (delayMs: number) => {
    if (closed || pendingScan) return
    pendingScan = scheduler.setTimeout(() => {
      pendingScan = undefined
      rescan().catch(() => {})
    }, delayMs)
  }
  let watcher: FSWatcher | undefined
  if (options.watch ?? true) {
    try {
      watcher = watch(dir, { persistent: false }, () => scheduleScan(10))
      watcher.on('error', () => scheduleScan(10))
    } catch {
      watcher = undefined
    }
  }
  let cancelPoll: Cancel | undefined
  const poll = () => {
    cancelPoll = scheduler.setTimeout(() => {
      rescan()
        .catch(() => {})
        .finally(() => {
          if (!closed) poll()
        })
    }, pollIntervalMs)
  }
  if (pollIntervalMs > 0) poll()
  const unGauge = stats.gauge('namespaces', () => entries.size)

  return {
    dir,
    rescan,
    list: () => Activity.of(names.map((value) => ({ kind: 'ok' as const, value }))),
    observe(ns) {
      try {
        checkNamespace(ns)
      } catch (error) {
        return Activity.exception(error)
      }
      return Activity.of(
        Var.async(stateOf(ns), (update) => {
          update(stateOf(ns))
          let fs = watchers.get(ns)
          if (!fs) {
            fs = new Set()
            watchers.set(ns, fs)
          }
          const set = fs
          set.add(update)
          return () => {
            set.delete(update)
            if (set.size === 0 && watchers.get(ns) === set) watchers.delete(ns)
          }
        }),
      )
    },
    create: (ns, dtab) =>
      write(ns, async (current) => {
        if (current) throw new DtabNamespaceExists(ns)
        await writeFile(ns, 1n, dtab, true)
      }),
    update: (ns, dtab, version) =>
      write(ns, async (current) => {
        if (!current) throw new DtabNamespaceDoesNotExist(ns)
        if (!Version.equals(current.diskVersion, version)) throw new DtabVersionMismatch(ns)
        await writeFile(ns, current.counter + 1n, dtab, false)
      }),
    put: (ns, dtab) =>
      write(ns, async (current) => {
        await writeFile(ns, (current?.counter ?? 0n) + 1n, dtab, false)
      }),
    delete: (ns) =>
      write(ns, async (current) => {
        if (!current) throw new DtabNamespaceDoesNotExist(ns)
        try {
          await unlink(pathOf(ns))
        } catch (error) {
          if (isErrno(error, 'ENOENT')) throw new DtabNamespaceDoesNotExist(ns)
          throw error
        }
        await syncDir()
        writes.incr()
        entries.delete(ns)
        publish(ns)
      }),
    async close() {
      if (closed) return
      closed = true
      watcher?.close()
      pendingScan?.()
      cancelPoll?.()
      unGauge()
      await locks.idle()
    },
  }
}
