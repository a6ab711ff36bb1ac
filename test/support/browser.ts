// Finds a Chromium for the browser tests without an apt step or a download: the one named by an environment
// variable, else a system Chromium or Chrome, else the Chromium that ships inside the @sparticuz/chromium package.
import fs from 'node:fs';
import path from 'node:path';

/** Flags for every launch: headless, no sandbox (CI runs as root), and no calls home (the network is closed). */
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Environment variables that name a browser executable, in the order they are read. */
export const BROWSER_ENV = ['CHROMIUM_PATH', 'CHROME_PATH'] as const;

export type FoundBrowser = { executablePath: string; source: string } | { missing: string };

// System installs, per platform: Debian/Ubuntu packages, Chrome's own packages, macOS and Windows installs.
// eslint-disable-next-line no-restricted-syntax -- these are where browsers are installed, probed and never required
const LINUX = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'];
// eslint-disable-next-line no-restricted-syntax -- as above
const MAC = ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'];

function systemCandidates(): string[] {
  if (process.platform === 'darwin') return MAC;
  if (process.platform === 'win32') {
    const roots = [process.env.PROGRAMFILES, process.env['PROGRAMFILES(X86)'], process.env.LOCALAPPDATA].filter((r): r is string => !!r);
    return roots.flatMap((r) => [path.join(r, 'Google', 'Chrome', 'Application', 'chrome.exe'), path.join(r, 'Chromium', 'Application', 'chrome.exe')]);
  }
  return LINUX;
}

/**
 * Where to find a browser: `CHROMIUM_PATH` / `CHROME_PATH`, a system Chromium or Chrome, or the Chromium
 * unpacked (into os.tmpdir()) from the @sparticuz/chromium dev dependency on Linux. `missing` says why none
 * was found and how to get one. A variable that names no file throws.
 * @example
 * const found = await findBrowser();
 * if ('executablePath' in found) await chromium.launch({ executablePath: found.executablePath, args: BROWSER_ARGS });
 */
export async function findBrowser(): Promise<FoundBrowser> {
  for (const name of BROWSER_ENV) {
    const value = process.env[name];
    if (!value) continue;
    if (fs.existsSync(value)) return { executablePath: value, source: `$${name}` };
    // A browser named on purpose that is not there is a mistake to fix, not a reason to skip.
    throw new Error(`${name}=${value} names no file. Point it at a Chromium or Chrome executable, or unset it.`);
  }
  const system = systemCandidates().find((p) => fs.existsSync(p));
  if (system) return { executablePath: system, source: 'system' };
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      const packaged = (await import('@sparticuz/chromium')).default;
      return { executablePath: await packaged.executablePath(), source: '@sparticuz/chromium' };
    } catch (err) {
      return { missing: `no system Chromium or Chrome, and the one in @sparticuz/chromium did not unpack (${(err as Error).message}).` + HOW };
    }
  }
  return { missing: `no Chromium or Chrome found (looked in ${systemCandidates().join(', ') || 'no known places'}).` + HOW };
}

const HOW = ` Install Chromium or Chrome (Debian: apt-get install -y chromium), or set ${BROWSER_ENV[0]} to a browser executable.`;
