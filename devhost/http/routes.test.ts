// Route templates, constraints and matching against ASP.NET Core's behaviour (the Functions host routes with it).
import { describe, expect, it } from 'vitest';
import { compileRoute, matchRoute } from './routes';

const match = (template: string, path: string) => matchRoute(compileRoute(template, null), path.split('/').filter(Boolean));
const refusal = (template: string) => {
  try {
    compileRoute(template, null);
  } catch (err) {
    return (err as Error).message;
  }
  return 'compiled';
};

describe('route templates', () => {
  it('literals match case-insensitively; {x?} may be absent; {x=abc} supplies a default', () => {
    expect(match('Items/{id}', 'items/7')).toEqual({ id: '7' });
    expect(match('items/{id?}', 'items')).toEqual({});
    expect(match('greet/{name=world}', 'greet')).toEqual({ name: 'world' });
    expect(match('greet/{name=world}', 'greet/ann')).toEqual({ name: 'ann' });
    expect(match('a/{b?}/c', 'a/c')).toBeUndefined(); // an optional parameter mid-route still takes the segment
    expect(match('items/{id}', 'items/7/more')).toBeUndefined();
  });

  it('{*rest} takes the rest of the path, or its default, or nothing', () => {
    expect(match('files/{*rest}', 'files/a/b/c')).toEqual({ rest: 'a/b/c' });
    expect(match('files/{*rest}', 'files')).toEqual({});
    expect(match('files/{**rest=index.html}', 'files')).toEqual({ rest: 'index.html' });
  });

  it("'{{' and '}}' are literal braces; a ':' or '=' inside a constraint's parentheses stays in it", () => {
    expect(match('x/{{v}}/{id}', 'x/{v}/1')).toEqual({ id: '1' });
    expect(match('t/{v:regex(^a:b=c$)}', 't/a:b=c')).toEqual({ v: 'a:b=c' });
    expect(match('t/{v:regex(^\\d{{2}}$)=12}', 't')).toEqual({ v: '12' });
  });

  it("refuses what ASP.NET Core refuses, with ASP.NET Core's reason", () => {
    expect(refusal('a//b')).toContain("separator character '/' cannot appear consecutively");
    expect(refusal('a/{b')).toContain("each '{' character has a matching '}'");
    expect(refusal('a/{b}/{B}')).toContain("'B' appears more than one time");
    expect(refusal('a/{*b?}')).toContain('A catch-all parameter cannot be marked optional');
    expect(refusal('a/{b=c?}')).toContain('An optional parameter cannot have default value');
    expect(refusal('{*a}/b')).toContain('catch-all parameter can only appear as the last segment');
    expect(refusal('a?/b')).toContain("Literal sections cannot contain the '?' character");
    expect(refusal('a/{}')).toContain("The route parameter name '' is invalid");
  });

  it('refuses a segment mixing literals and parameters rather than never matching it', () => {
    expect(refusal('files/{name}.{ext}')).toMatch(/segment '\{name\}\.\{ext\}', which mixes literals and parameters/);
  });
});

describe('route constraints', () => {
  it('int is 32-bit and long 64-bit, with .NET white space and signs; min/max/range compare as long', () => {
    expect(match('n/{v:int}', 'n/2147483647')).toBeDefined();
    expect(match('n/{v:int}', 'n/2147483648')).toBeUndefined();
    expect(match('n/{v:int}', 'n/+5')).toBeDefined();
    expect(match('n/{v:int}', 'n/5.0')).toBeUndefined();
    expect(match('n/{v:long}', 'n/-9223372036854775808')).toBeDefined();
    expect(match('n/{v:long}', 'n/9223372036854775808')).toBeUndefined();
    expect(match('n/{v:int:min(1)}', 'n/0')).toBeUndefined();
    expect(match('n/{v:int:min(1)}', 'n/1')).toEqual({ v: '1' });
    expect(match('n/{v:max(10)}', 'n/11')).toBeUndefined();
    expect(match('n/{v:range(-5,5)}', 'n/-5')).toBeDefined();
    expect(match('n/{v:range(-5,5)}', 'n/6')).toBeUndefined();
    expect(match('n/{v:range(-5,5)}', 'n/x')).toBeUndefined();
  });

  it('decimal, double and float parse as .NET does in the invariant culture', () => {
    for (const ok of ['1,000.50', '-.5', '5-', '79228162514264337593543950335']) expect(match('d/{v:decimal}', `d/${ok}`), ok).toBeDefined();
    for (const bad of ['1e3', '-5-', '79228162514264337593543950336', ',5', 'abc']) expect(match('d/{v:decimal}', `d/${bad}`), bad).toBeUndefined();
    for (const ok of ['1.5e3', '1,000.5', 'NaN', '-Infinity', '.5', '1e999']) expect(match('d/{v:double}', `d/${ok}`), ok).toBeDefined();
    for (const bad of ['1e', '5-', '0x10', '']) expect(match('d/{v:float}', `d/${bad}`), bad).toBeUndefined();
  });

  it('bool, guid, alpha, datetime', () => {
    expect(match('b/{v:bool}', 'b/TRUE')).toBeDefined();
    expect(match('b/{v:bool}', 'b/yes')).toBeUndefined();
    for (const g of ['6f9619ff8b86d011b42d00cf4fc964ff', '6F9619FF-8B86-D011-B42D-00CF4FC964FF', '{6f9619ff-8b86-d011-b42d-00cf4fc964ff}', '(6f9619ff-8b86-d011-b42d-00cf4fc964ff)', '{0x6f9619ff,0x8b86,0xd011,{0xb4,0x2d,0x00,0xcf,0x4f,0xc9,0x64,0xff}}']) {
      expect(match('g/{v:guid}', `g/${g}`), g).toBeDefined();
    }
    expect(match('g/{v:guid}', 'g/6f9619ff-8b86d011b42d00cf4fc964ff')).toBeUndefined();
    expect(match('a/{v:alpha}', 'a/Abc')).toBeDefined();
    expect(match('a/{v:alpha}', 'a/ab1')).toBeUndefined();
    for (const d of ['2024-02-29', '2024-02-29T23:59:59.1234567Z', '2024-02-29 10:00+02:00', '2/29/2024', '15 Jan 2024', 'January 15, 2024', 'Mon, 15 Jan 2024 10:00:00 GMT', '10:30 PM']) {
      expect(match('t/{*v:datetime}', `t/${d}`), d).toBeDefined(); // a catch-all, so M/d/yyyy fits
    }
    for (const d of ['2023-02-29', '2024-13-01', '24:00', 'tomorrow', '2024']) expect(match('t/{*v:datetime}', `t/${d}`), d).toBeUndefined();
  });

  it('length, minlength, maxlength count UTF-16 code units, as .NET strings do', () => {
    expect(match('s/{v:length(3)}', 's/abc')).toBeDefined();
    expect(match('s/{v:length(3)}', 's/abcd')).toBeUndefined();
    expect(match('s/{v:length(2,4)}', 's/a')).toBeUndefined();
    expect(match('s/{v:minlength(2):maxlength(3)}', 's/ab')).toBeDefined();
    expect(match('s/{v:maxlength(1)}', 's/😀')).toBeUndefined(); // two code units
  });

  it('regex is case-insensitive and NOT anchored, as RegexRouteConstraint uses it', () => {
    expect(match('r/{v:regex(^(a|b)$)}', 'r/B')).toBeDefined();
    expect(match('r/{v:regex(^(a|b)$)}', 'r/ab')).toBeUndefined();
    expect(match('r/{v:regex(b)}', 'r/abc')).toBeDefined();
    expect(match('r/{v:regex(^\\d+$)}', 'r/١٢٣')).toBeDefined(); // .NET's \d is any Unicode decimal digit
    expect(match('r/{v:regex(^\\w+$)}', 'r/héllo')).toBeDefined(); // and \w any letter
    expect(match('r/{v:regex(^a,b$)}', 'r/a,b')).toBeDefined(); // commas are part of the pattern
  });

  it('file and nonfile look at the last segment; nonfile lets a missing value through', () => {
    expect(match('f/{*p:file}', 'f/a/b.txt')).toBeDefined();
    expect(match('f/{*p:file}', 'f/a.d/c')).toBeUndefined();
    expect(match('f/{*p:nonfile}', 'f')).toEqual({});
    expect(match('f/{*p:file}', 'f')).toBeUndefined();
    expect(match('f/{*p:nonfile}', 'f/.gitignore')).toBeUndefined();
  });

  it('an optional parameter skips its constraints when absent; a default is checked like a value', () => {
    expect(match('o/{v:int?}', 'o')).toEqual({});
    expect(match('o/{v:int=abc}', 'o')).toBeUndefined();
  });

  it('a constraint devhost cannot honour, or ASP.NET Core would refuse, stops the start with the reason', () => {
    expect(refusal('x/{id:foo}')).toMatch(/the constraint 'foo' on 'id': 'foo' is not a constraint the Functions host knows/);
    expect(refusal('x/{id:INT}')).toBe('compiled'); // names are case-insensitive
    expect(refusal('x/{id:int(3)}')).toContain("'int' takes no arguments");
    expect(refusal('x/{id:min}')).toContain("'min' takes 1 argument, got 0");
    expect(refusal('x/{id:length(1,2,3)}')).toContain("'length' takes 1 or 2 arguments, got 3");
    expect(refusal('x/{id:range(5,1)}')).toContain('min (5) must be less than or equal to max (1)');
    expect(refusal('x/{id:minlength(-1)}')).toContain('must be greater than or equal to 0');
    expect(refusal('x/{id:max(ten)}')).toContain("'ten' is not a 64-bit integer");
    expect(refusal('x/{id:regex}')).toContain("'regex' needs a pattern");
    expect(refusal('x/{id:regex((?i)a)}')).toContain('inline options');
    expect(refusal('x/{id:regex(a(?>b))}')).toContain('atomic group');
    expect(refusal('x/{id:regex([a-z-[aeiou]])}')).toContain('subtraction');
    expect(refusal('x/{id:regex(\\p{{IsGreek}})}')).toContain('not a regular expression JavaScript can compile');
  });
});
