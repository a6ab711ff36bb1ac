// Which question the terminal client shows: the message that asks the newest open prompt is shown as the question,
// in its place among the messages, even when the prompt row is read before the feed brings that message; a question
// whose message never comes is shown a moment later; a question answered or gone clears the prompt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GameApi, Message, Prompt } from '../../client/api';
import type { GameConsole } from '../../client/console';
import { Questions } from '../../client/questions';

function setup(open: Prompt[]) {
  const shown: string[] = [];
  let asking: Prompt | undefined;
  const io = {
    message: (text: string) => shown.push(text),
    ask: (p: Prompt | undefined) => {
      if (p?.promptId === asking?.promptId) return;
      asking = p;
      shown.push(p ? `? ${p.question}` : '(plain prompt)');
    },
    get asking() {
      return asking?.promptId;
    },
  };
  const api = { prompts: async () => state.open };
  const state = { open };
  return { shown, state, questions: new Questions(api as unknown as GameApi, io as unknown as GameConsole) };
}

const msgs = (...texts: string[]): Message[] => texts.map((text, i) => ({ id: `m${i}`, text, time: '' }));
const Q = { promptId: 'p1', question: 'Do you want to wait another 5 secs?' };

afterEach(() => {
  vi.useRealTimers();
});

describe('Questions', () => {
  it('shows the question where its message is, not before the lines said before it, and not twice', async () => {
    const { shown, questions } = setup([Q]); // the prompt row is already readable...
    await questions.show(msgs('Getting ready to wait ...')); // ...while the feed has brought only this line
    await questions.show(msgs('Now 5 seconds have passed.', Q.question, 'A later line.'));
    expect(shown).toEqual(['Getting ready to wait ...', 'Now 5 seconds have passed.', `? ${Q.question}`, 'A later line.']);
  });

  it('an old copy of the same question in the history is plain text; the last copy is the question', async () => {
    const { shown, questions } = setup([Q]);
    await questions.show(msgs(Q.question, 'no', Q.question));
    expect(shown).toEqual([Q.question, 'no', `? ${Q.question}`]);
  });

  it('shows a question whose message never comes (trimmed from the history) after a moment', async () => {
    vi.useFakeTimers();
    const { shown, questions } = setup([Q]);
    await questions.show(msgs('Welcome back.'));
    expect(shown).toEqual(['Welcome back.']);
    await vi.advanceTimersByTimeAsync(1500);
    expect(shown).toEqual(['Welcome back.', `? ${Q.question}`]);
  });

  it('clears the question once it is answered, and brings back an older one still open at once', async () => {
    const older = { promptId: 'p0', question: 'What is your name?' };
    const { shown, state, questions } = setup([older]);
    await questions.show(msgs(older.question));
    state.open = [Q, older];
    await questions.show(msgs(Q.question));
    state.open = [older];
    await questions.refresh();
    state.open = [];
    await questions.refresh();
    expect(shown).toEqual([`? ${older.question}`, `? ${Q.question}`, `? ${older.question}`, '(plain prompt)']);
  });

  it('when the prompts cannot be read, messages are still shown, as text', async () => {
    const { shown, state, questions } = setup([Q]);
    (state as { open: Prompt[] | null }).open = null;
    await questions.show(msgs('Now 5 seconds have passed.', Q.question));
    expect(shown).toEqual(['Now 5 seconds have passed.', Q.question]);
  });
});
