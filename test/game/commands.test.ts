// Command parsing as a player sees it: case-insensitive keys, aliases, arguments, and the help command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, startGame } from './harness';

let host: TestHost;
let p: Player;
beforeAll(async () => {
  host = await startGame();
  p = await Player.join(host, 'parser');
});
afterAll(async () => host?.dispose());

describe('commands', () => {
  it('keys are case-insensitive and arguments keep their inner spacing', async () => {
    expect(await p.type('ECHO  Hello   world ')).toMatchObject({ kind: 'command', command: 'echo' });
    expect(await p.read()).toEqual(['Hello   world']);
  });

  it('aliases run the same command', async () => {
    expect(await p.type('reminder 1 via alias')).toMatchObject({ command: 'remind' });
    await host.advance('1s');
    expect((await p.read())[1]).toBe('Reminder: via alias');
    expect(await p.type('delays')).toMatchObject({ command: 'tasks' });
    expect((await p.read())[0]).toMatch(/^Your tasks:\n/);
  });

  it('help lists the commands, and explains one', async () => {
    await p.type('help');
    const [list] = await p.read();
    for (const key of ['asynccommand', 'asyncfail', 'testdelay', 'waitloop', 'remind', 'tasks', 'help']) expect(list).toMatch(new RegExp(`^  ${key} `, 'm'));
    await p.type('help remind');
    expect(await p.read()).toEqual(['remind (aliases: reminder): remind <seconds> <text>: reminds you later. Manage it with `tasks`.']);
    await p.type('? nosuch');
    expect(await p.read()).toEqual([`No help for 'nosuch'. Type "help" for the list of commands.`]);
  });
});
