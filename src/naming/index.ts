/**
 * The naming floor. The text layer: {@link Path}, {@link NameTree}, {@link Prefix}, {@link Dentry}
 * and {@link Dtab}, with Finagle's text forms, parse errors and lookup semantics. The binding
 * layer: {@link Addr}, {@link Address}, {@link Name}, {@link Namer}, {@link NamerRegistry}, the
 * interpreters that bind a path under a dtab into a live tree of bound names, the system namers
 * under `/$/`, {@link delegate} (why a path binds where it does) and namerd's JSON forms.
 *
 * @example
 * ```ts
 * import { Dtab, NameTree, Path } from 'switchboard/naming'
 *
 * const dtab = Dtab.read('/svc => /#/io.l5d.consul/dc1; /svc/users => 1 * /canary & 9 * /stable')
 * NameTree.show(dtab.lookup(Path.read('/svc/users'))) // '/canary & 9.00*\/stable | /#/io.l5d.consul/dc1/users'
 *
 * const bound = defaultInterpreter().bind(Dtab.read('/svc => /$/inet/127.0.0.1'), Path.read('/svc/8080'))
 * NameTree.show(bound.sample()) // '/$/inet/127.0.0.1/8080'
 * ```
 */

export {
  Addr,
  type AddrBound,
  type AddrFailed,
  AddrFailedError,
  type AddrNeg,
  type AddrPending,
} from './addr.js'
export { Address, InvalidAddressError, type Metadata } from './address.js'
export { bindTree, DEFAULT_MAX_BIND_NESTING, DEFAULT_MAX_DEPTH, type Lookup } from './bind.js'
export { type DelegateOptions, delegate } from './delegate.js'
export {
  type DelegateAlt,
  type DelegateDelegate,
  type DelegateEmpty,
  type DelegateException,
  type DelegateFail,
  type DelegateLeaf,
  type DelegateNeg,
  type DelegateTransformation,
  DelegateTree,
  type DelegateUnion,
  type DelegateWeighted,
} from './delegate-tree.js'
export { Dentry, Prefix, type PrefixElem } from './dentry.js'
export { Dtab } from './dtab.js'
export {
  configuredDtabInterpreter,
  type Delegator,
  defaultInterpreter,
  dtabLookup,
  type InterpreterOptions,
  type NameInterpreter,
  resolve,
} from './interpreter.js'
export {
  type AddrOf,
  addrJson,
  boundJson,
  boundNames,
  boundTreeJson,
  delegateTreeJson,
  javaHostAddress,
  MAX_REPEATED_DENTRY_CHARS,
  settleAddrs,
} from './json.js'
export { Name, NameBound, NamePath } from './name.js'
export { Namer } from './namer.js'
export { BindingTooDeepError, NamerExceededMaxDepthError, UnknownNamerError } from './namer-errors.js'
export {
  type Alt,
  type Empty,
  type Fail,
  type Leaf,
  NameTree,
  type Neg,
  type Union,
  type Weighted,
} from './nametree.js'
export { ParseError } from './parse-error.js'
export { MAX_NESTING } from './parser.js'
export { InvalidLabelError, Path } from './path.js'
export { InvalidPathPatternError, PathMatcher } from './path-matcher.js'
export { type MountedNamer, NamerRegistry } from './registry.js'
export {
  anyHost,
  anyHostPfx,
  anyMethod,
  anyMethodPfx,
  builtinKinds,
  DEFAULT_DNS_POLL_INTERVAL_MS,
  type DnsResolver,
  domainToPath,
  domainToPathPfx,
  hostportPfx,
  type InetOptions,
  inetAddr,
  porthostPfx,
  rewritingNamer,
  rinetNamer,
  type SystemNamerOptions,
  subdomainOf,
  subdomainOfPfx,
  systemDnsResolver,
  systemNamer,
} from './system/index.js'
