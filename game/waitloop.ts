// The seed's @interactive example, `waitloop`, and the same loop in the bounded loop() form, `waitrounds`,
// for loops that may run for hundreds of rounds.
import { again, command, interactive, loop, stop } from '../core';

command(
  'waitloop',
  interactive(function* (caller) {
    while (true) {
      caller.msg('Getting ready to wait ...');
      yield 5;
      caller.msg('Now 5 seconds have passed.');

      const response = yield 'Do you want to wait another 5 secs?';

      if (!['yes', 'y'].includes(String(response).toLowerCase())) {
        break;
      }
    }
  }),
  { help: 'Waits 5 seconds, then asks whether to wait again (seed example of @interactive).' },
);

command(
  'waitrounds',
  loop({
    start: () => ({ round: 1 }),
    *round(caller, state) {
      caller.msg('Getting ready to wait ...');
      yield 5;
      caller.msg('Now 5 seconds have passed.');
      const response = yield 'Do you want to wait another 5 secs?';
      return ['yes', 'y'].includes(String(response).toLowerCase()) ? again({ round: state.round + 1 }) : stop(state.round);
    },
  }),
  { help: 'waitloop written as a bounded loop: each round starts a fresh history (continue-as-new).' },
);
