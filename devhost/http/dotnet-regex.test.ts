// dotnetRegex: .NET patterns read the way .NET reads them, or refused with the construct named.
import { describe, expect, it } from 'vitest';
import { dotnetRegex } from './dotnet-regex';

describe('dotnetRegex', () => {
  it('keeps .NET meanings JavaScript would read differently', () => {
    expect(dotnetRegex('^a$').test('a\n')).toBe(true); // .NET $ matches before a final newline
    expect(dotnetRegex('^a\\z').test('a\n')).toBe(false);
    expect(dotnetRegex('^\\Aa').test('a')).toBe(true);
    expect(dotnetRegex('^a.b$').test('a\rb')).toBe(true); // .NET . excludes only \n
    expect(dotnetRegex('^a{b}$').test('a{b}')).toBe(true); // a brace that is no quantifier is literal
    expect(dotnetRegex('^a{2}$').test('aa')).toBe(true);
    expect(dotnetRegex('^[]a]+$').test(']a')).toBe(true); // ']' first in a class is literal
    expect(dotnetRegex('^\\-\\_$').test('-_')).toBe(true); // identity escapes JavaScript's u-mode refuses
    expect(dotnetRegex('^[\\w-]+$').test('é-x')).toBe(true);
    expect(dotnetRegex('^a(?#comment)b$').test('ab')).toBe(true);
    expect(dotnetRegex('^(?<y>\\d{4})$').test('2024')).toBe(true);
  });

  it('is case-insensitive and unanchored, like RegexRouteConstraint', () => {
    expect(dotnetRegex('ABC').test('xxabcxx')).toBe(true);
  });

  it('refuses constructs JavaScript has no form of, naming them', () => {
    expect(() => dotnetRegex('\\Ga')).toThrow('\\G');
    expect(() => dotnetRegex('(?i:a)')).toThrow('inline options');
    expect(() => dotnetRegex("(?'n'a)")).toThrow('balancing group');
    expect(() => dotnetRegex('(?(a)b|c)')).toThrow('conditional');
    expect(() => dotnetRegex('[^\\W]')).toThrow('\\W inside');
    expect(() => dotnetRegex('\\q')).toThrow("'\\q' is not an escape");
    expect(() => dotnetRegex('[a')).toThrow("'[' is not closed");
  });
});
