import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('error classes', () => {
  const classes = ['core', 'connectors', 'functions', 'local'].flatMap((dir) =>
    sources(join(ROOT, dir)).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...text.matchAll(/class (\w+) extends (\w*Error) \{([\s\S]*?)\n\}/g)].map((m) => ({
        where: `${relative(ROOT, file)}: ${m[1]}`,
        base: m[2]!,
        body: m[3]!,
      }));
    }),
  );

  it('finds the error classes it checks', () => {
    expect(classes.map((c) => c.where)).toEqual(
      expect.arrayContaining([
        'core/shared/errors.ts: FindingNotFoundError',
        'core/rotation/steps.ts: RotationStepError',
      ]),
    );
  });

  it('derives every error class from CloseloopError, so the CLI and the APIs recognise it', () => {
    expect(classes.filter((c) => c.base === 'Error').map((c) => c.where)).toEqual([
      'core/shared/errors.ts: CloseloopError',
    ]);
  });

  it('gives every error class ErrorOptions, so a wrapped error keeps its cause', () => {
    const without = classes.filter((c) => !/constructor\([^)]*ErrorOptions[^)]*\)/.test(c.body.replace(/\s+/g, ' ')));
    expect(without.map((c) => c.where)).toEqual([]);
  });
});
