// The terminal client's command line and what it shows of a message: flags and their mistakes, the app's address
// however it was pasted, and messages that cannot drive the terminal (escape sequences shown as text).
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GameConsole, sanitize } from '../../client/console';
import { parsePlayArgs } from '../../client/terminal';

describe('npm run play -- <flags>', () => {
  it('needs --name; the URL defaults to GAME_URL, then http://localhost:7071', () => {
    expect(parsePlayArgs(['--name', 'alice'], {})).toEqual({ url: 'http://localhost:7071', name: 'alice', longPoll: false });
    expect(parsePlayArgs(['--name', 'alice'], { GAME_URL: 'https://game.example' })).toEqual({ url: 'https://game.example', name: 'alice', longPoll: false });
    expect(parsePlayArgs(['--name=bob', '--url', 'http://127.0.0.1:9000', '--long-poll'], {})).toEqual({ url: 'http://127.0.0.1:9000', name: 'bob', longPoll: true });
    expect(parsePlayArgs(['--help'], {})).toBeNull();
  });

  it('takes the web client address or the API root as the app address', () => {
    for (const url of ['https://app.azurewebsites.net/api/play', 'https://app.azurewebsites.net/api/', 'https://app.azurewebsites.net/', 'https://app.azurewebsites.net']) {
      expect(parsePlayArgs(['--name', 'a', '--url', url], {})?.url, url).toBe('https://app.azurewebsites.net');
    }
  });

  it('says what is wrong with a command line, with the usage', () => {
    expect(() => parsePlayArgs([], {})).toThrow(/^--name is required\.\n\nUsage: npm run play -- --name <name>/);
    expect(() => parsePlayArgs(['--name', '  '], {})).toThrow(/^--name is required/);
    expect(() => parsePlayArgs(['--name', 'a', '--colour'], {})).toThrow(/Unknown option '--colour'[^]*Usage:/);
    expect(() => parsePlayArgs(['--name', 'a', 'extra'], {})).toThrow(/Unexpected argument 'extra'/);
    expect(() => parsePlayArgs(['--name', 'a', '--url', 'localhost:7071'], {})).toThrow('--url "localhost:7071" must start with http:// or https://.');
    expect(() => parsePlayArgs(['--name', 'a', '--url', 'not a url'], {})).toThrow('--url "not a url" is not a URL: give one such as http://localhost:7071.');
  });
});

describe('sanitize', () => {
  it('shows control characters as ^X, so a message cannot clear the screen, retitle the window or ring the bell', () => {
    expect(sanitize('a\x1b[2J\x1b]0;pwned\x07b')).toBe('a^[[2J^[]0;pwned^Gb');
    expect(sanitize('del\x7f c1\x9b')).toBe('del^? c1\ufffd');
    expect(sanitize('tabs\tand\nnew lines stay; <img src=x onerror=alert(1)> is text')).toBe('tabs\tand\nnew lines stay; <img src=x onerror=alert(1)> is text');
  });
});

describe('the client\'s own lines', () => {
  it('show what the server said in an error or a status (its message, a reconnect reason) as text too', () => {
    const pipe = () => new PassThrough() as unknown as NodeJS.ReadStream & NodeJS.WriteStream;
    const [input, output, errors] = [pipe(), pipe(), pipe()];
    let said = '';
    (errors as unknown as PassThrough).on('data', (d: Buffer) => (said += d.toString('utf8')));
    const io = new GameConsole(input, output, errors, {});
    io.error('The game answered: \x1b]52;c;cm0gLXJmIH4=\x07 done');
    io.status('reconnecting… (\x1b[2Jgone)');
    expect(said).toBe('! The game answered: ^[]52;c;cm0gLXJmIH4=^G done\n* reconnecting… (^[[2Jgone)\n');
  });
});
