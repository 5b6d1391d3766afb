import { describe, expect, it } from 'vitest'
import { Dentry, Dtab, MAX_NESTING, NameTree, ParseError, Path, Prefix } from '../../src/naming/index.js'
import { errorOf } from './errors.js'

const tree = (text: string) => NameTree.toDebugString(NameTree.read(text))
const treeError = (text: string) => errorOf(NameTree.read, text)
const dtabError = (text: string) => errorOf(Dtab.read, text)

describe('parser: error message form', () => {
  it('marks the current character in brackets', () => {
    const e = errorOf(Path.read, '/foo^bar')
    expect(e).toBe("end of input expected but '^' found at '/foo[^]bar'")
  })

  it('marks the end of input with [] appended', () => {
    expect(errorOf(Path.read, '/foo/bar/')).toBe(
      "label char expected but end of input found at '/foo/bar/[]'",
    )
  })

  it('exposes the parts as fields', () => {
    try {
      Dtab.read('/a=>/b;;')
      expect.unreachable()
    } catch (e) {
      const err = e as ParseError
      expect(err).toBeInstanceOf(ParseError)
      expect(err.code).toBe('ParseError')
      expect(err.name).toBe('ParseError')
      expect(err.input).toBe('/a=>/b;;')
      expect(err.offset).toBe(7)
      expect(err.expected).toBe("'/'")
      expect(err.found).toBe("';'")
    }
  })

  it('names every kind of expectation', () => {
    expect(treeError('/a & 2 /b')).toBe("'*' expected but '/' found at '/a & 2 [/]b'")
    expect(treeError('')).toBe("simple expected but end of input found at '[]'")
    expect(errorOf(Path.read, '/a\\x4g')).toBe("hex char expected but 'g' found at '/a\\x4[g]'")
    expect(errorOf(Path.read, '/a/')).toBe("label char expected but end of input found at '/a/[]'")
    expect(treeError('0.1.2*/a')).toBe("number char expected but '.' found at '0.1[.]2*/a'")
  })

  it('reports a lone "." weight with the bracket after the dot (Finagle quirk)', () => {
    expect(treeError('/foo & . * /bar')).toBe("weight expected but '.' found at '/foo & .[ ]* /bar'")
    expect(treeError('.')).toBe("weight expected but '.' found at '.[]'")
  })

  it('treats a literal U+FFFF as Finagle does: described as end of input', () => {
    expect(errorOf(Path.read, '/a\uffff')).toBe(
      "end of input expected but end of input found at '/a[\uffff]'",
    )
  })
})

describe('parser: whitespace and comments (surprise 4)', () => {
  it('skips Java whitespace, including U+001C..U+001F and the Unicode separators', () => {
    for (const ws of [
      '\t',
      '\n',
      '\u000b',
      '\f',
      '\r',
      '\u001c',
      '\u001f',
      ' ',
      '\u2003',
      '\u2028',
      '\u3000',
    ]) {
      expect(Dtab.read(`${ws}/a${ws}=>${ws}/b${ws};${ws}`).show()).toBe('/a=>/b')
    }
  })

  it('does not skip the no-break spaces or U+0085/U+FEFF', () => {
    for (const c of ['\u00a0', '\u2007', '\u202f', '\u0085', '\ufeff']) {
      expect(() => Path.read(`${c}/a`)).toThrow(ParseError)
      expect(() => Path.read(`/a${c}`)).toThrow(ParseError)
    }
    expect(errorOf(Path.read, '\u00a0/a')).toBe("'/' expected but '\u00a0' found at '[\u00a0]/a'")
  })

  it('# starts a comment only where whitespace is skipped; inside a label it is a label char', () => {
    expect(Path.read('/#foo').segments).toEqual(['#foo'])
    expect(Path.read('/a#b').segments).toEqual(['a#b'])
    expect(Path.read('/s#/x').segments).toEqual(['s#', 'x'])
    expect(Path.read('/a #b').segments).toEqual(['a'])
    const d = Dtab.read(
      [
        '# routing for the users service',
        '/svc => /#/io.l5d.fs; # the file namer',
        '/svc/users => ~ | /s#1 #trailing',
        '# done',
      ].join('\n'),
    )
    expect(d.show()).toBe('/svc=>/#/io.l5d.fs;/svc/users=>~ | /s#1')
  })

  it('a comment runs to the end of the line (or the input)', () => {
    expect(Dtab.read('/a=>/b # ; /c=>/d\n;/e=>/f').show()).toBe('/a=>/b;/e=>/f')
    expect(Dtab.read('/a=>/b;# no newline').show()).toBe('/a=>/b')
    expect(NameTree.show(NameTree.read('(#c\n/a|#c\n/b)'))).toBe('/a | /b')
    expect(NameTree.show(NameTree.read('~#c\n|!'))).toBe('~ | !')
  })

  it('whitespace is not allowed inside a path or between = and >', () => {
    expect(errorOf(Path.read, '/ foo')).toBe("end of input expected but 'f' found at '/ [f]oo'")
    expect(errorOf(Dentry.read, '/a = > /b')).toBe("'>' expected but ' ' found at '/a =[ ]> /b'")
    expect(errorOf(Dentry.read, '/a / b=>/c')).toBe("'=' expected but '/' found at '/a [/] b=>/c'")
  })
})

describe('parser: paths and labels', () => {
  it('a path ends at the first character that is not a label char', () => {
    expect(errorOf(Path.read, '/{}')).toBe("end of input expected but '{' found at '/[{]}'")
    expect(errorOf(Path.read, '/a*b')).toBe("end of input expected but '*' found at '/a[*]b'")
    expect(errorOf(Path.read, '//')).toBe("end of input expected but '/' found at '/[/]'")
    expect(errorOf(Path.read, '/a//b')).toBe("label char expected but '/' found at '/a/[/]b'")
  })

  it('escapes may appear anywhere in a label and yield any byte', () => {
    expect(Path.read('/a\\x2fb\\x00').segments).toEqual(['a/b\u0000'])
    expect(Path.read('/\\x66\\x6f\\x6F').equals(Path.read('/foo'))).toBe(true)
    expect(Path.read('/x\\x41Y').segments).toEqual(['xAY'])
  })

  it('a backslash must be followed by a lowercase x and two hex digits', () => {
    expect(errorOf(Path.read, '/a\\')).toBe("'x' expected but end of input found at '/a\\[]'")
    expect(errorOf(Path.read, '/\\X41')).toBe("'x' expected but 'X' found at '/\\[X]41'")
    expect(errorOf(Path.read, '/\\x4')).toBe("hex char expected but end of input found at '/\\x4[]'")
    expect(errorOf(Path.read, '/\\xg0')).toBe("hex char expected but 'g' found at '/\\x[g]0'")
  })

  it('non-ASCII characters must be escaped', () => {
    expect(errorOf(Path.read, '/caf\u00e9')).toBe(
      "end of input expected but '\u00e9' found at '/caf[\u00e9]'",
    )
    expect(errorOf(Path.read, '/\u00e9')).toBe("end of input expected but '\u00e9' found at '/[\u00e9]'")
  })
})

describe('parser: prefixes and wildcards', () => {
  it('* is a wildcard only as a whole prefix element', () => {
    expect(Prefix.read('/a/*/c').toString()).toBe('Prefix(a,*,c)')
    expect(Prefix.read('/*').toString()).toBe('Prefix(*)')
    expect(errorOf(Prefix.read, '/foo/*bar')).toBe("end of input expected but 'b' found at '/foo/*[b]ar'")
    expect(errorOf(Prefix.read, '/a*')).toBe("end of input expected but '*' found at '/a[*]'")
    expect(errorOf(Prefix.read, '/a/**')).toBe("end of input expected but '*' found at '/a/*[*]'")
    expect(errorOf(Dentry.read, '/foo/*bar=>/a')).toBe("'=' expected but 'b' found at '/foo/*[b]ar=>/a'")
  })

  it('a * inside a name tree is not a label char', () => {
    expect(treeError('/a/*')).toBe("label char expected but '*' found at '/a/[*]'")
  })

  it('\\x2a in a prefix is the literal label *, not a wildcard', () => {
    const p = Prefix.read('/\\x2a')
    expect(p.elems).toEqual([{ kind: 'label', label: '*' }])
    expect(p.show()).toBe('/\\x2a')
    expect(p.matches(Path.read('/x'))).toBe(false)
    expect(p.matches(Path.of('*'))).toBe(true)
  })
})

describe('parser: name trees', () => {
  it('reads the simple forms', () => {
    expect(tree('/a')).toBe('Leaf(Path(a))')
    expect(tree('/')).toBe('Leaf(Path())')
    expect(tree('! | ~ | $')).toBe('Alt(Fail,Neg,Empty)')
    expect(tree('(/a)')).toBe('Leaf(Path(a))')
    expect(tree('((~))')).toBe('Neg')
  })

  it('& binds tighter than |, chains are flat, parentheses nest and are kept', () => {
    expect(tree('/a & /b | /c & /d')).toBe(
      'Alt(Union(Weighted(1.0,Leaf(Path(a))),Weighted(1.0,Leaf(Path(b)))),Union(Weighted(1.0,Leaf(Path(c))),Weighted(1.0,Leaf(Path(d)))))',
    )
    expect(tree('/a | /b | /c')).toBe('Alt(Leaf(Path(a)),Leaf(Path(b)),Leaf(Path(c)))')
    expect(tree('(/a | /b) | /c')).toBe('Alt(Alt(Leaf(Path(a)),Leaf(Path(b))),Leaf(Path(c)))')
    expect(tree('/a | (/b | /c)')).toBe('Alt(Leaf(Path(a)),Alt(Leaf(Path(b)),Leaf(Path(c))))')
    expect(tree('(/a & /b) & /c')).toBe(
      'Union(Weighted(1.0,Union(Weighted(1.0,Leaf(Path(a))),Weighted(1.0,Leaf(Path(b))))),Weighted(1.0,Leaf(Path(c))))',
    )
  })

  it('reads weights with Double.parseDouble forms and no sign or exponent', () => {
    expect(tree('1 * /foo & 2 * /bar | .5 * /bar & .5 * /baz')).toBe(
      'Alt(Union(Weighted(1.0,Leaf(Path(foo))),Weighted(2.0,Leaf(Path(bar)))),Union(Weighted(0.5,Leaf(Path(bar))),Weighted(0.5,Leaf(Path(baz)))))',
    )
    expect(tree('5.*/a & 00.50*/b & 0*/c & 1.*/d')).toBe(
      'Union(Weighted(5.0,Leaf(Path(a))),Weighted(0.5,Leaf(Path(b))),Weighted(0.0,Leaf(Path(c))),Weighted(1.0,Leaf(Path(d))))',
    )
    expect(tree('2*/a&3*/b')).toBe('Union(Weighted(2.0,Leaf(Path(a))),Weighted(3.0,Leaf(Path(b))))')
    expect(treeError('-1*/a')).toBe("simple expected but '-' found at '[-]1*/a'")
    expect(treeError('1e3*/a')).toBe("'*' expected but 'e' found at '1[e]3*/a'")
    expect(treeError('2 /a')).toBe("'*' expected but '/' found at '2 [/]a'")
    expect(treeError('2 * 3 * /a')).toBe("simple expected but '3' found at '2 * [3] * /a'")
  })

  it('refuses a weight that overflows to Infinity, pointing at its first digit (deviation)', () => {
    const nines = '9'.repeat(400)
    expect(treeError(`${nines}*/a & /b`)).toBe(
      `finite weight expected but '9' found at '[9]${nines.slice(1)}*/a & /b'`,
    )
    expect(() => Dtab.read(`/a=>/c & ${nines}.5*/b`)).toThrow(
      /^finite weight expected but '9' found at '\/a=>\/c & \[9\]9+\.5\*\/b'$/,
    )
    // The largest finite weights still read, and print in a form that reads back.
    const big = NameTree.read(`${'9'.repeat(308)}*/a & /b`)
    expect(big.kind === 'union' && Number.isFinite(big.trees[0]!.weight)).toBe(true)
    expect(NameTree.show(NameTree.read(NameTree.show(big)))).toBe(NameTree.show(big))
  })

  it('drops the weight of a lone & term (surprise 1)', () => {
    expect(tree('3 * /foo')).toBe('Leaf(Path(foo))')
    expect(tree('2 * (3 * /foo)')).toBe('Leaf(Path(foo))')
    expect(tree('2 * (/a | /b)')).toBe('Alt(Leaf(Path(a)),Leaf(Path(b)))')
    expect(tree('0.5 * /a | /b')).toBe('Alt(Leaf(Path(a)),Leaf(Path(b)))')
  })

  it('reports unbalanced and empty groups', () => {
    expect(treeError('(/a')).toBe("')' expected but end of input found at '(/a[]'")
    expect(treeError('/a)')).toBe("end of input expected but ')' found at '/a[)]'")
    expect(treeError('()')).toBe("simple expected but ')' found at '([)]'")
    expect(treeError('/a |')).toBe("simple expected but end of input found at '/a |[]'")
    expect(treeError('/a & | /b')).toBe("simple expected but '|' found at '/a & [|] /b'")
    expect(treeError('/a /b')).toBe("end of input expected but '/' found at '/a [/]b'")
  })

  it(`caps nesting at MAX_NESTING (${MAX_NESTING}) with a ParseError, not a stack overflow`, () => {
    const ok = `${'('.repeat(MAX_NESTING)}/a${')'.repeat(MAX_NESTING)}`
    expect(tree(ok)).toBe('Leaf(Path(a))')
    const deep = `${'('.repeat(MAX_NESTING + 1)}/a${')'.repeat(MAX_NESTING + 1)}`
    expect(treeError(deep)).toMatch(
      /^at most 1000 nested '\(' expected but '\(' found at '\(+\[\(\]\(*\/a\)+'$/,
    )
    expect(() => NameTree.read('('.repeat(200_000))).toThrow(ParseError)
    expect(() => Dtab.read(`/a=>${'(/b|'.repeat(100_000)}`)).toThrow(ParseError)
  })

  it('handles long flat inputs without recursion', () => {
    const n = 50_000
    const alt = NameTree.read(Array.from({ length: n }, (_, i) => `/s${i}`).join(' | '))
    expect(alt.kind === 'alt' && alt.trees.length).toBe(n)
    const long = Path.read(`/${'a/'.repeat(n)}z`)
    expect(long.size).toBe(n + 1)
  })
})

describe('parser: dentries and dtabs (surprise 14)', () => {
  it('a dentry is prefix => tree, whitespace allowed around =>', () => {
    expect(Dentry.read('/=>!').show()).toBe('/=>!')
    expect(Dentry.read(' / => ! ').show()).toBe('/=>!')
    expect(Dentry.read('/foo/*/bar=>/baz').show()).toBe('/foo/*/bar=>/baz')
    expect(errorOf(Dentry.read, '/a')).toBe("'=' expected but end of input found at '/a[]'")
    expect(errorOf(Dentry.read, '/a=')).toBe("'>' expected but end of input found at '/a=[]'")
    expect(errorOf(Dentry.read, '/a=>')).toBe("simple expected but end of input found at '/a=>[]'")
    expect(errorOf(Dentry.read, '/a >/b')).toBe("'=' expected but '>' found at '/a [>]/b'")
    expect(errorOf(Dentry.read, '/a->/b')).toBe("'=' expected but '>' found at '/a-[>]/b'") // '-' is a label char
  })

  it('empty, blank or comment-only text is the empty dtab', () => {
    expect(Dtab.read('')).toBe(Dtab.empty)
    expect(Dtab.read(' \n\t ')).toBe(Dtab.empty)
    expect(Dtab.read('# nothing here\n  # nor here')).toBe(Dtab.empty)
  })

  it('allows one trailing ; but not ;;, a leading ; or a lone ;', () => {
    expect(Dtab.read('/=>!;').show()).toBe('/=>!')
    expect(Dtab.read('/=>!; # end\n').show()).toBe('/=>!')
    expect(Dtab.read('/=>!;/foo=>/bar').show()).toBe('/=>!;/foo=>/bar')
    expect(dtabError('/a=>/b;;')).toBe("'/' expected but ';' found at '/a=>/b;[;]'")
    expect(dtabError(';/a=>/b')).toBe("'/' expected but ';' found at '[;]/a=>/b'")
    expect(dtabError(';')).toBe("'/' expected but ';' found at '[;]'")
    expect(dtabError(' ; ')).toBe("'/' expected but ';' found at ' [;] '")
    expect(dtabError('/a=>/b; ;')).toBe("'/' expected but ';' found at '/a=>/b; [;]'")
  })

  it('two dentries need a ; between them; newlines mean nothing', () => {
    expect(dtabError('/a=>/b\n/c=>/d')).toBe("end of input expected but '/' found at '/a=>/b\n[/]c=>/d'")
    expect(Dtab.read('/a\n=>\n/b\n;\n/c=>/d').show()).toBe('/a=>/b;/c=>/d')
  })
})
