// `longjob [steps] [seconds per step]`: a background job (runAsync) that reports its progress as it goes, so
// `tasks`, GET /api/tasks and the operator page show it moving, and says a line per step while it runs.
import { callback, command, runAsync, type CallbackError } from '../core';

const MAX_STEPS = 100;
const MAX_STEP_SECONDS = 60;

/**
 * The job: `steps` steps of `secondsPerStep` each. The wait stands in for slow work that does not block the process
 * (a web request, a file, a query); CPU-heavy work blocks every other request the instance serves, as in Evennia.
 */
export const longJob = callback('longJob', async (ctx, steps: number, secondsPerStep: number) => {
  let total = 0;
  ctx.progress(0, `0 of ${steps} steps`);
  for (let step = 1; step <= steps; step++) {
    await new Promise((resolve) => setTimeout(resolve, secondsPerStep * 1000));
    total += step * step;
    ctx.progress(step / steps, `${step} of ${steps} steps`);
    ctx.caller.msg(`longjob: step ${step} of ${steps} done.`);
  }
  return total;
});

/** at_return: the job's result. */
export const longJobDone = callback('longJobDone', (ctx, total: number) => {
  ctx.caller.msg(`longjob finished: the sum of the squares is ${total}.`);
});

/** at_err: the job failed. */
export const longJobFailed = callback('longJobFailed', (ctx, e: CallbackError) => {
  ctx.caller.msg(`longjob failed: ${e.message}`);
});

const USAGE = `Usage: longjob [steps] [seconds per step]   e.g. longjob 10 1 (1-${MAX_STEPS} steps of 0-${MAX_STEP_SECONDS} s; default 10 of 1 s)`;

command(
  'longjob',
  async (caller, args, cmd) => {
    const [stepsText = '10', secondsText = '1', extra] = args.split(/\s+/).filter(Boolean);
    const steps = Number(stepsText);
    const seconds = Number(secondsText);
    if (extra !== undefined || !Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_STEP_SECONDS) {
      caller.msg(USAGE);
      return;
    }
    const task = await runAsync(cmd, longJob, [steps, seconds], { atReturn: longJobDone, atErr: longJobFailed });
    caller.msg(`longjob started (task ${task.id}): ${steps} steps of ${seconds} s. Type "tasks" to see how far it is.`);
  },
  { help: 'longjob [steps] [seconds per step]: a background job that reports its progress (see it with `tasks`).' },
);
