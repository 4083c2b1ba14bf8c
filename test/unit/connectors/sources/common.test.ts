import { repositoryFromLink } from '@connectors/sources/common';

/**
 * The rule as one regex states it, on the whole link (independent of how the code cuts it): the
 * link starts `scheme://host/owner/repo/kind/`.
 */
function byRegex(link: string): string | undefined {
  const m = /^https?:\/\/([^/]+)\/([^/]+)\/([^/]+)\/(?:blob|tree|commit|security|wiki)\//i.exec(link);
  return m ? `${m[1]}/${m[2]}/${m[3]}`.toLowerCase() : undefined;
}

describe('repositoryFromLink', () => {
  it('reads the repository of the links scanners write', () => {
    expect(repositoryFromLink('https://github.com/Acme/API/blob/4b825dc/config/settings.py#L3')).toBe(
      'github.com/acme/api',
    );
    expect(repositoryFromLink('http://gitlab.example:8080/group/app/tree/main')).toBe('gitlab.example:8080/group/app');
    expect(repositoryFromLink('https://github.com/acme/api')).toBeUndefined();
    expect(repositoryFromLink(undefined)).toBeUndefined();
  });

  it('answers as the regex does, for every spelling of scheme, segments and kind', () => {
    const schemes = ['https://', 'http://', 'HTTPS://', 'Http://', 'ftp://', 'httpss://', '', 'https:///'];
    const hosts = ['github.com', 'GitHub.com', '', 'host:8443'];
    const names = ['acme', 'Acme', '', 'a.b-c'];
    const kinds = ['blob', 'BLOB', 'Tree', 'commit', 'security', 'wiki', 'blobs', 'blo', 'pulls', ''];
    const tails = ['', '/', '/main/file.py#L3', '//x'];
    let links = 0;
    for (const scheme of schemes)
      for (const host of hosts)
        for (const owner of names)
          for (const repo of names)
            for (const kind of kinds)
              for (const tail of tails) {
                const link = `${scheme}${host}/${owner}/${repo}/${kind}${tail}`;
                expect([link, repositoryFromLink(link)]).toEqual([link, byRegex(link)]);
                links++;
              }
    expect(links).toBeGreaterThan(10_000);
  });
});
