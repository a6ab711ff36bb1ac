// `tasks`: lists your delays and background jobs; `tasks <id> cancel|pause|unpause|fire|info` uses a task handle,
// like Evennia's @tasks.
import { command, listTasks, type TaskInfo } from '../core';

function line(t: TaskInfo): string {
  const left = t.remaining !== undefined ? ` ${Math.round(t.remaining)}s left` : '';
  return `${t.id}  ${t.kind} ${t.callback} (from ${t.command}): ${t.state}${left}`;
}

command(
  'tasks',
  async (caller, args, cmd) => {
    const [id, op] = args.split(/\s+/).filter(Boolean);
    if (!id) {
      const tasks = await listTasks(cmd);
      caller.msg(tasks.length === 0 ? 'You have no tasks.' : ['Your tasks:', ...tasks.map(line)].join('\n'));
      return;
    }
    const task = cmd.task(id);
    switch ((op ?? 'info').toLowerCase()) {
      case 'info':
        caller.msg(line(await task.info()));
        return;
      case 'cancel':
        caller.msg((await task.cancel()) ? `Task ${id} cancelled.` : `Task ${id} had already finished.`);
        return;
      case 'pause':
        caller.msg((await task.pause()) ? `Task ${id} paused.` : `Task ${id} is not running.`);
        return;
      case 'unpause':
        caller.msg((await task.unpause()) ? `Task ${id} resumed.` : `Task ${id} is not paused.`);
        return;
      case 'fire':
        caller.msg((await task.doTask()) ? `Task ${id} fires now.` : `Task ${id} had already finished.`);
        return;
      default:
        caller.msg('Usage: tasks [<id> [info|cancel|pause|unpause|fire]]');
    }
  },
  { aliases: ['delays'], help: 'tasks: list your tasks. tasks <id> cancel|pause|unpause|fire|info: manage one.' },
);
