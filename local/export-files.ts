import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { InputError } from '@core/shared/errors';
import type { ExportFiles } from '@core/reports/exports';

/**
 * Report export files in a directory (the hub's home locally); `closeloop serve` hands them out
 * at `GET /reports/exports/{id}/file`.
 */
export function localExportFiles(root: string, baseUrl: () => string): ExportFiles {
  const pathOf = (key: string) => {
    const path = normalize(join(root, key));
    if (!path.startsWith(normalize(root) + sep))
      throw new InputError(`export file key ${JSON.stringify(key)} leaves the export directory`);
    return path;
  };
  return {
    async put(key, body) {
      await mkdir(dirname(pathOf(key)), { recursive: true });
      await writeFile(pathOf(key), body, 'utf8');
    },
    async get(key) {
      try {
        return await readFile(pathOf(key), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async downloadUrl(key) {
      const id = /^exports\/([0-9a-f-]{36})\//.exec(key)?.[1];
      if (!id) throw new InputError(`not an export file key: ${JSON.stringify(key)}`);
      return `${baseUrl()}/reports/exports/${id}/file`;
    },
  };
}
