import { inFlags } from '@local/cli/errors';

describe('core messages in the CLI', () => {
  it('names the options that set the fields a message names', () => {
    expect(inFlags('reason must not be empty', ['reason'])).toBe('--reason must not be empty');
    expect(inFlags('compensatingControl is 2001 characters long', ['compensatingControl'])).toBe(
      '--compensating-control is 2001 characters long',
    );
    expect(inFlags('evidence.ref must not be empty', ['evidence.ref'])).toBe('--evidence reference must not be empty');
    expect(inFlags('give note and/or evidence', ['note', 'evidence'])).toBe('give --note and/or --evidence');
    expect(inFlags('until 2020-01-01T00:00:00.000Z is not in the future', ['until'])).toBe(
      '--until 2020-01-01T00:00:00.000Z is not in the future',
    );
  });

  it('leaves a message without named fields as it is', () => {
    expect(inFlags('finding NHI-0000000000000001 not found', [])).toBe('finding NHI-0000000000000001 not found');
  });
});
