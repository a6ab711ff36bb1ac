// Per-clone secrets for local runs: before the app settings are read, devhost turns every value marked
// `<random-secret>` into a fresh random secret in local.settings.json (creating it from local.settings.example.json
// on a fresh clone), so no two clones share a secret and no working secret is ever in the repository.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The value that marks an app setting as "a random secret, made per clone" in local.settings(.example).json. */
export const RANDOM_SECRET_PLACEHOLDER = '<random-secret>';

const SETTINGS = 'local.settings.json';
const EXAMPLE = 'local.settings.example.json';

interface SettingsFile {
  Values?: Record<string, unknown>;
  [key: string]: unknown;
}

/** 32 random bytes, base64url (43 characters). */
function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

function readJson(file: string): SettingsFile | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as SettingsFile) : undefined;
  } catch {
    return undefined; // missing or not JSON: the settings loader reports it
  }
}

function placeholders(settings: SettingsFile | undefined): string[] {
  return Object.entries(settings?.Values ?? {})
    .filter(([, v]) => v === RANDOM_SECRET_PLACEHOLDER)
    .map(([k]) => k);
}

/**
 * Fills the app's `<random-secret>` placeholders before its settings are loaded:
 *
 * * no local.settings.json yet: creates it (mode 0600) from local.settings.example.json with each placeholder
 *   replaced by 32 random bytes (base64url), once per clone; later starts find it and keep its secrets;
 * * a local.settings.json that still holds placeholders (copied by hand from the example): fills them in place;
 * * every placeholder setting already set in `env` (tests, CI, a shell export): writes nothing;
 * * the file cannot be written: puts random values into `env` for this run only, and says so.
 *
 * Values other than the placeholder are never changed. Returns the settings it filled.
 *
 * @example
 * prepareLocalSettings(appDir, process.env, console.log); // then read local.settings.json as Core Tools does
 */
export function prepareLocalSettings(appDir: string, env: NodeJS.ProcessEnv, say: (message: string) => void): string[] {
  const target = path.join(appDir, SETTINGS);
  const exists = fs.existsSync(target);
  const source = exists ? readJson(target) : readJson(path.join(appDir, EXAMPLE));
  const keys = placeholders(source);
  if (!source || keys.length === 0 || keys.every((k) => env[k] !== undefined && env[k] !== '')) return [];
  const values: Record<string, unknown> = { ...source.Values };
  for (const k of keys) values[k] = randomSecret();
  const text = `${JSON.stringify({ ...source, Values: values }, null, 2)}\n`;
  try {
    if (exists) {
      const tmp = `${target}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text, { mode: 0o600 });
      fs.renameSync(tmp, target);
    } else {
      fs.writeFileSync(target, text, { mode: 0o600, flag: 'wx' });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return prepareLocalSettings(appDir, env, say); // another start made it first
    for (const k of keys) if (!env[k]) env[k] = values[k] as string;
    say(`Could not write ${SETTINGS} (${(err as Error).message}): using a random ${keys.join(', ')} for this run only.`);
    return keys;
  }
  const named = keys.join(', ');
  say(exists ? `Filled ${named} in ${SETTINGS} with a random secret.` : `Created ${SETTINGS} from ${EXAMPLE} with a random ${named} for this clone.`);
  const ignore = path.join(appDir, '.gitignore');
  if (fs.existsSync(ignore) && !/^\/?local\.settings\.json\s*$/m.test(fs.readFileSync(ignore, 'utf8'))) {
    say(`Warning: .gitignore does not list ${SETTINGS}; add it, so its secrets never reach the repository.`);
  }
  return keys;
}
