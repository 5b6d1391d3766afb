import { describe, expect, it } from 'vitest'
import { Dentry, Dtab, NameTree, Path } from '../../src/naming/index.js'

const lookup = (dtab: string, path: string) => NameTree.show(Dtab.read(dtab).lookup(Path.read(path)))

describe('Dtab', () => {
  it('reads and shows compactly', () => {
    expect(Dtab.read('/a => /b;\n/c => /d;').show()).toBe('/a=>/b;/c=>/d')
    expect(Dtab.read('').show()).toBe('')
    expect(Dtab.read('  # only a comment\n')).toBe(Dtab.empty)
  })

  it('lookup tries the last entry first (surprise 5)', () => {
    expect(lookup('/a=>/z;/a=>/x | /y', '/a')).toBe('(/x | /y) | /z')
    expect(lookup('/foo/bar=>/xxx;/foo=>/yyy', '/foo/bar/baz')).toBe('/yyy/bar/baz | /xxx/baz')
    expect(lookup('/a/*/c => /d', '/a/b/c/e/f')).toBe('/d/e/f')
    expect(lookup('/a=>/', '/a/b')).toBe('/b')
    expect(lookup('/*=>/x', '/')).toBe('~')
  })

  it('rejects ;; and a leading ; (surprise 14)', () => {
    expect(() => Dtab.read('/a=>/b;;')).toThrow("'/' expected but ';' found at '/a=>/b;[;]'")
    expect(() => Dtab.read(';/a=>/b')).toThrow("'/' expected but ';' found at '[;]/a=>/b'")
    expect(() => Dentry.read('/a = > /b')).toThrow("'>' expected but ' ' found at '/a =[ ]> /b'")
  })
})
